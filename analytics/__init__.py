"""Pure analytics: DataFrames in, typed frozen results out. No Streamlit, no SQL."""
