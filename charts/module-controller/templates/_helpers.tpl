{{- /* Prefix of every object's name: fullnameOverride, else the release name. */ -}}
{{- define "mc.name" -}}{{ .Values.fullnameOverride | default .Release.Name | trunc 40 | trimSuffix "-" }}{{- end -}}
{{- define "mc.appName" -}}{{ .Values.nameOverride | default "module-controller" | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "mc.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}
{{- define "mc.labels" -}}
app.kubernetes.io/name: {{ include "mc.appName" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
{{- define "mc.selector" -}}
app.kubernetes.io/name: {{ include "mc.appName" .root }}
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
{{- /* The container securityContext (values: securityContext). */ -}}
{{- define "mc.securityContext" -}}
securityContext: {{- toYaml .Values.securityContext | nindent 2 }}
{{- end -}}
{{- /*
Pod template metadata of a component: selector labels, podLabels, podAnnotations and an optional
config checksum. dict: root, component, values (the component's values), checksum (optional).
*/ -}}
{{- define "mc.podMetadata" -}}
labels:
  {{- include "mc.selector" (dict "root" .root "component" .component) | nindent 2 }}
  {{- with .values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- if or .values.podAnnotations .checksum }}
annotations:
  {{- with .checksum }}
  checksum/config: {{ . }}
  {{- end }}
  {{- with .values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end -}}
{{- /*
Pod-level fields every component shares: pull secrets, pod securityContext, scheduling.
dict: root, values (the component's values).
*/ -}}
{{- define "mc.podSpec" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
securityContext: {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
topologySpreadConstraints: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
{{- /* extraArgs of a component, as list items. */ -}}
{{- define "mc.extraArgs" -}}
{{- range .extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}
{{- define "mc.extraEnv" -}}
{{- with .extraEnv }}
{{- toYaml . }}
{{- end }}
{{- end -}}
{{- /* The webhook's serving certificate comes from cert-manager (no Kubernetes API access needed). */ -}}
{{- define "mc.webhookTlsSecret" -}}{{ include "mc.name" . }}-webhook-tls{{- end -}}
{{- /* peer: pods of this release with the given component label */ -}}
{{- define "mc.peer" -}}
- podSelector: { matchLabels: { app.kubernetes.io/instance: {{ .root.Release.Name }}, app.kubernetes.io/component: {{ .component }} } }
{{- end -}}
{{- /* ingress rule for one port: from the given peers, or from anywhere when the list is empty */ -}}
{{- define "mc.ingressRule" -}}
- ports: [{ port: {{ .port }}, protocol: TCP }]
  {{- if .peers }}
  from: {{- toYaml .peers | nindent 4 }}
  {{- end }}
{{- end -}}
