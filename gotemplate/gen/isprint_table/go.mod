module sealed-secrets-rs.local/gotemplate-isprint-table-gen

go 1.26
