{{/* Chart name, possibly overridden. */}}
{{- define "stratum.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, with the chart name appended unless it already contains it. */}}
{{- define "stratum.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "stratum.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stratum.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "stratum.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "stratum.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: stratum
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "stratum.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "stratum.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "stratum.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Certificate Secrets are mounted as whole directories (never subPath): the kubelet then swaps
renewed files in place and the operator reads them on its next connection. */}}
{{- define "stratum.tlsDir" -}}/etc/stratum/linstor-tls{{- end }}
{{- define "stratum.maasCaDir" -}}/etc/stratum/maas-ca{{- end }}

{{/* The Secret with the LINSTOR client certificate: cert-manager's or an existing one; empty for none. */}}
{{- define "stratum.linstorTlsSecret" -}}
{{- if .Values.linstor.tls.certManager.enabled }}
{{- printf "%s-linstor-client-tls" (include "stratum.fullname" .) }}
{{- else }}
{{- .Values.linstor.tls.existingSecret }}
{{- end }}
{{- end }}

{{/* "true" when the pod needs the LINSTOR client TLS Secret. */}}
{{- define "stratum.linstorTls" -}}
{{- if and .Values.linstor.controllers (include "stratum.linstorTlsSecret" .) }}true{{ end }}
{{- end }}

{{/* "true" when the pod needs the MAAS CA Secret. */}}
{{- define "stratum.maasCa" -}}
{{- if and .Values.maas.apiUrl .Values.maas.caSecret.name }}true{{ end }}
{{- end }}
