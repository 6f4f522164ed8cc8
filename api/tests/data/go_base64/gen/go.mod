module sealed-secrets-rs.local/go-base64-gen

go 1.26
