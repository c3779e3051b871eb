"""The API's routers, one module per resource, each handed its store, catalog and queue by
`pipeline.api.deps`."""
