{{/* Names, labels and the values several templates derive. */}}

{{- define "avibot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "avibot.fullname" -}}
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

{{- define "avibot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "avibot.labels" -}}
helm.sh/chart: {{ include "avibot.chart" . }}
{{ include "avibot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "avibot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "avibot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: bot
{{- end }}

{{/* Labels of a companion workload (redis, ollama): pass (dict "root" $ "component" "redis"). */}}
{{- define "avibot.componentLabels" -}}
helm.sh/chart: {{ include "avibot.chart" .root }}
{{ include "avibot.componentSelectorLabels" . }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: {{ include "avibot.name" .root }}
{{- end }}

{{- define "avibot.componentSelectorLabels" -}}
app.kubernetes.io/name: {{ include "avibot.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "avibot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "avibot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret every pod reads its credentials from (envFrom). */}}
{{- define "avibot.secretName" -}}
{{- default (include "avibot.fullname" .) .Values.existingSecret }}
{{- end }}

{{- define "avibot.redisName" -}}
{{- printf "%s-redis" (include "avibot.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "avibot.ollamaName" -}}
{{- printf "%s-ollama" (include "avibot.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "true" when the bot has a Redis (in-chart, external URL or a Secret holding one), else "". */}}
{{- define "avibot.hasRedis" -}}
{{- if or .Values.redis.enabled .Values.redis.url .Values.redis.existingSecret }}true{{ end }}
{{- end }}

{{- define "avibot.ollamaHost" -}}
{{- if .Values.llm.host }}
{{- .Values.llm.host }}
{{- else if .Values.ollama.enabled }}
{{- printf "http://%s:11434" (include "avibot.ollamaName" .) }}
{{- else }}
{{- "http://ollama:11434" }}
{{- end }}
{{- end }}

{{/* Host headers served: loopback (probes from inside), the pod IP (kubelet probes, Prometheus), the
Service's names, the ingress hosts and web.extraAllowedHosts. $(POD_IP) is expanded by Kubernetes. */}}
{{- define "avibot.allowedHosts" -}}
{{- $svc := include "avibot.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- $hosts := list "localhost" "127.0.0.1" "$(POD_IP)" $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) }}
{{- if .Values.ingress.enabled }}
{{- range .Values.ingress.hosts }}
{{- $hosts = append $hosts .host }}
{{- end }}
{{- end }}
{{- range .Values.web.extraAllowedHosts }}
{{- $hosts = append $hosts . }}
{{- end }}
{{- join "," (uniq $hosts) }}
{{- end }}

{{/* A value kept across upgrades: the given one, else the one in the live Secret (lookup), else random.
Pass (dict "root" $ "secret" NAME "key" KEY "given" VALUE "length" N). Offline (helm template) lookup
finds nothing, so each render draws a new random value. */}}
{{- define "avibot.keptSecretValue" -}}
{{- if .given }}
{{- .given | b64enc }}
{{- else }}
{{- $live := lookup "v1" "Secret" .root.Release.Namespace .secret }}
{{- if and $live $live.data (hasKey $live.data .key) }}
{{- index $live.data .key }}
{{- else }}
{{- randAlphaNum (int .length) | b64enc }}
{{- end }}
{{- end }}
{{- end }}
