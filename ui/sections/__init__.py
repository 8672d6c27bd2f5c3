"""Page sections: one module per page; pages in app_pages/ compose them."""
