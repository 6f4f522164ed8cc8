module sealed-secrets-rs.local/gotemplate-unicode-tables-gen

go 1.26
