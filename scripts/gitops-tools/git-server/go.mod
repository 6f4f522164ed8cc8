module sealed-secrets-rs.local/gitops-tools/git-server

go 1.25.0
