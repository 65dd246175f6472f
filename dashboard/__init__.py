"""The CornLens Streamlit dashboard (`streamlit run dashboard/Home.py`; the pages: dashboard/navigation.py)."""
