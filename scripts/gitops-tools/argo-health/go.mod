module sealed-secrets-rs.local/gitops-tools/argo-health

go 1.25.0

require (
	github.com/yuin/gopher-lua v1.1.2
	sigs.k8s.io/yaml v1.4.0
)
