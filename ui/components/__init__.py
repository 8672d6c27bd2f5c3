"""Custom Streamlit components (st.components.v2): trusted JS/CSS shipped with the app."""
