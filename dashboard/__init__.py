"""The CornLens Streamlit dashboard (entry point: dashboard/Home.py)."""
