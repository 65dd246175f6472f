"""CornLens dashboard entry point (placeholder until the dashboard issue lands)."""

import streamlit as st

st.set_page_config(page_title="CornLens", layout="wide")
st.title("CornLens")
st.write("Does zero-shot CLIP work on my images — and if not, why?")
