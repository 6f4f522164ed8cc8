{{/*
Helpers. Their names are the reference chart's ("sealed-secrets.*"), because
values rendered with tpl (extraDeploy, commonLabels, ...) may include them.
*/}}

{{/* The chart name, or nameOverride: the app.kubernetes.io/name label. */}}
{{- define "sealed-secrets.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The name of the objects: fullnameOverride; else the release name when it
contains the chart name (or nameOverride); else <release>-<name>. At most 63
characters.
*/}}
{{- define "sealed-secrets.fullname" -}}
{{- $name := .Values.nameOverride | default .Chart.Name -}}
{{- $full := "" -}}
{{- if .Values.fullnameOverride -}}
{{- $full = .Values.fullnameOverride -}}
{{- else if contains $name .Release.Name -}}
{{- $full = .Release.Name -}}
{{- else -}}
{{- $full = printf "%s-%s" .Release.Name $name -}}
{{- end -}}
{{- $full | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Where the controller and its namespaced objects go. */}}
{{- define "sealed-secrets.namespace" -}}
{{- .Values.namespace | default .Release.Namespace -}}
{{- end -}}

{{/* <chart>-<version> for the helm.sh/chart label. */}}
{{- define "sealed-secrets.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sealed-secrets.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "sealed-secrets.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* The selector of the Deployment, Services, PDB and NetworkPolicy. It
cannot change in an upgrade: keep it the reference chart's. */}}
{{- define "sealed-secrets.matchLabels" -}}
app.kubernetes.io/name: {{ include "sealed-secrets.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "sealed-secrets.labels" -}}
{{ include "sealed-secrets.matchLabels" . }}
helm.sh/chart: {{ include "sealed-secrets.chart" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: sealed-secrets
{{- end -}}

{{/*
A value rendered with tpl: strings as they are, anything else as YAML first.
  include "sealed-secrets.render" (dict "value" .Values.x "context" $)
*/}}
{{- define "sealed-secrets.render" -}}
{{- if kindIs "string" .value -}}
{{- tpl .value .context -}}
{{- else -}}
{{- tpl (toYaml .value) .context -}}
{{- end -}}
{{- end -}}

{{/*
metadata.labels and metadata.annotations of an object: the common ones plus
the object's own ("labels"/"annotations", maps rendered with tpl), and
"extraLabels" (a literal map).
  include "sealed-secrets.metadata" (dict "context" $ "labels" .Values.x.labels "annotations" .Values.x.annotations)
*/}}
{{- define "sealed-secrets.metadata" -}}
{{- $ctx := .context -}}
labels:
  {{- include "sealed-secrets.labels" $ctx | nindent 2 }}
  {{- with .labels }}
  {{- include "sealed-secrets.render" (dict "value" . "context" $ctx) | nindent 2 }}
  {{- end }}
  {{- with $ctx.Values.commonLabels }}
  {{- include "sealed-secrets.render" (dict "value" . "context" $ctx) | nindent 2 }}
  {{- end }}
  {{- with .extraLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- if or .annotations $ctx.Values.commonAnnotations }}
annotations:
  {{- with .annotations }}
  {{- include "sealed-secrets.render" (dict "value" . "context" $ctx) | nindent 2 }}
  {{- end }}
  {{- with $ctx.Values.commonAnnotations }}
  {{- include "sealed-secrets.render" (dict "value" . "context" $ctx) | nindent 2 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* The Kubernetes version rendered for: global.kubeVersion, kubeVersion, the cluster's. */}}
{{- define "sealed-secrets.kubeVersion" -}}
{{- $global := .Values.global | default dict -}}
{{- $global.kubeVersion | default .Values.kubeVersion | default .Capabilities.KubeVersion.Version -}}
{{- end -}}

{{/* The Ingress apiVersion: ingress.apiVersion, else by Kubernetes version. */}}
{{- define "sealed-secrets.ingress.apiVersion" -}}
{{- $kube := include "sealed-secrets.kubeVersion" . -}}
{{- if .Values.ingress.apiVersion -}}
{{- .Values.ingress.apiVersion -}}
{{- else if semverCompare "<1.14-0" $kube -}}
extensions/v1beta1
{{- else if semverCompare "<1.19-0" $kube -}}
networking.k8s.io/v1beta1
{{- else -}}
networking.k8s.io/v1
{{- end -}}
{{- end -}}

{{/* An Ingress backend to the controller's http port, in the apiVersion's shape. */}}
{{- define "sealed-secrets.ingress.backend" -}}
{{- $api := include "sealed-secrets.ingress.apiVersion" . -}}
{{- if has $api (list "extensions/v1beta1" "networking.k8s.io/v1beta1") -}}
serviceName: {{ include "sealed-secrets.fullname" . }}
servicePort: http
{{- else -}}
service:
  name: {{ include "sealed-secrets.fullname" . }}
  port:
    name: http
{{- end -}}
{{- end -}}

{{/* "true" when Ingress has pathType and ingressClassName (Kubernetes 1.18+). */}}
{{- define "sealed-secrets.ingress.modern" -}}
{{- if semverCompare ">=1.18-0" (include "sealed-secrets.kubeVersion" .) -}}
true
{{- end -}}
{{- end -}}

{{/* "true" when cert-manager annotations ask for the Ingress certificate. */}}
{{- define "sealed-secrets.ingress.certManager" -}}
{{- $a := .Values.ingress.annotations | default dict -}}
{{- if or (hasKey $a "cert-manager.io/cluster-issuer") (hasKey $a "cert-manager.io/issuer") -}}
true
{{- end -}}
{{- end -}}

{{/*
A map of strings as the controller's k=v,k=v flag value, keys sorted; fails
on a value that is not a non-empty string, as the reference chart does.
  include "sealed-secrets.keyValues" (dict "map" .Values.privateKeyLabels "what" "Label")
*/}}
{{- define "sealed-secrets.keyValues" -}}
{{- $pairs := list -}}
{{- range $k, $v := .map -}}
{{- if not (and $v (kindIs "string" $v)) -}}
{{- fail (printf "%s values have to be strings (%s)" $.what $k) -}}
{{- end -}}
{{- $pairs = append $pairs (printf "%s=%s" $k $v) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* The container image: registry/repository@digest, or registry/repository:tag. */}}
{{- define "sealed-secrets.image" -}}
{{- $repo := .Values.image.repository -}}
{{- if .Values.image.registry -}}
{{- $repo = printf "%s/%s" .Values.image.registry $repo -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString .Values.image.tag) -}}
{{- end -}}
{{- end -}}
