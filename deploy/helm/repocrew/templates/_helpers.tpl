{{/* The release's name for its objects, at most 63 characters. */}}
{{- define "repocrew.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "repocrew.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: web, worker, scheduler or migrations. */}}
{{- define "repocrew.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "repocrew.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The Secret the containers read their credentials from. */}}
{{- define "repocrew.secretName" -}}
{{- if .Values.existingSecret -}}
{{ .Values.existingSecret }}
{{- else -}}
{{ include "repocrew.fullname" . }}
{{- end -}}
{{- end -}}

{{/* Every pod: non-root, and its scratch directories (the root filesystem is read-only). */}}
{{- define "repocrew.podSpec" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  - name: tmp
    emptyDir: {}
  - name: work
    emptyDir: {}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* What every repocrew container shares: image, settings, credentials, scratch mounts. */}}
{{- define "repocrew.container" -}}
image: {{ include "repocrew.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
envFrom:
  - secretRef:
      name: {{ include "repocrew.secretName" . }}
env:
  - name: REPOCREW_WORK_DIR
    value: /work
  {{- range $name, $value := .Values.config }}
  - name: {{ $name }}
    value: {{ $value | quote }}
  {{- end }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  - name: work
    mountPath: /work
{{- end -}}

{{/* Roll the pods when the chart's Secret changes. */}}
{{- define "repocrew.podAnnotations" -}}
{{- if not .Values.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end -}}

{{/* Checks that stop a broken install before anything is created. */}}
{{- define "repocrew.validate" -}}
{{- if not .Values.existingSecret -}}
{{- $url := required "databaseUrl is required (postgresql://…), or set existingSecret" .Values.databaseUrl -}}
{{- if not (hasPrefix "postgresql" $url) -}}
{{- fail "databaseUrl must be a postgresql:// URL: SQLite cannot be shared by several pods" -}}
{{- end -}}
{{- end -}}
{{- if lt (int .Values.replicas.web) 1 -}}
{{- fail "replicas.web must be at least 1" -}}
{{- end -}}
{{- end -}}
