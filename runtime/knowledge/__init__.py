"""Knowledge base: loaders, chunking, embeddings, hybrid search, Drive sync."""
