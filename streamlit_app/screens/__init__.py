"""The dashboard's pages (not `pages/`, which Streamlit would list by itself), one module each, each exposing `render()`."""
