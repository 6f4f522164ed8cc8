module sealed-secrets-rs.local/gotemplate-fmt-printf-gen

go 1.26
