"""Models of the research papers, written against the public symgraph API."""
