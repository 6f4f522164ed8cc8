module sealed-secrets-rs.local/gotemplate-regex-names-gen

go 1.26
