"""Identity and access: tenants, principals, roles, bearer tokens."""
