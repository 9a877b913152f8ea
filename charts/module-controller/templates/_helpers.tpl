{{- define "mc.name" -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- end -}}
{{- define "mc.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}
{{- define "mc.labels" -}}
app.kubernetes.io/name: module-controller
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
{{- define "mc.selector" -}}
app.kubernetes.io/name: module-controller
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}
{{- define "mc.mqttUrl" -}}
{{- if .Values.mqtt.url -}}{{ .Values.mqtt.url }}{{- else if and .Values.broker.enabled .Values.broker.tls.enabled -}}mqtts://{{ include "mc.name" . }}-broker.{{ .Release.Namespace }}.svc:{{ .Values.broker.tls.port }}{{- else if .Values.broker.enabled -}}mqtt://{{ include "mc.name" . }}-broker.{{ .Release.Namespace }}.svc:{{ .Values.broker.port }}{{- else -}}{{ fail "set mqtt.url or broker.enabled=true" }}{{- end -}}
{{- end -}}
{{- define "mc.mqttEnv" -}}
{{- if .Values.mqtt.existingSecret }}
- name: MC_MQTT_USERNAME
  valueFrom: { secretKeyRef: { name: {{ .Values.mqtt.existingSecret }}, key: username } }
- name: MC_MQTT_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ .Values.mqtt.existingSecret }}, key: password } }
{{- end }}
{{- end -}}
{{- define "mc.probes" -}}
livenessProbe:
  httpGet: { path: /healthz, port: {{ .port }}{{ if .https }}, scheme: HTTPS{{ end }} }
  periodSeconds: 10
readinessProbe:
  httpGet: { path: /readyz, port: {{ .port }}{{ if .https }}, scheme: HTTPS{{ end }} }
  periodSeconds: 5
{{- end -}}
{{- define "mc.securityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: { drop: [ALL] }
{{- end -}}
