{{/* MQTT wiring shared by broker.yaml and bridge.yaml (docs/security.md "Helm"). */}}
{{- define "mc.broker.name" -}}{{ include "mc.name" . }}-broker{{- end -}}
{{/* The Secret with bridge-/base-username and -password the in-chart broker admits. */}}
{{- define "mc.broker.credentialsSecret" -}}{{ .Values.broker.auth.existingSecret | default (printf "%s-credentials" (include "mc.broker.name" .)) }}{{- end -}}
{{/* The Secret with the broker's serving certificate: tls.crt, tls.key, ca.crt. */}}
{{- define "mc.broker.tlsSecret" -}}
{{- if eq .Values.broker.tls.certificates "secret" -}}{{ required "broker.tls.existingSecret is required with broker.tls.certificates=secret" .Values.broker.tls.existingSecret }}{{- else -}}{{ include "mc.broker.name" . }}-tls{{- end -}}
{{- end -}}
{{/* The Secret with the bridge's client certificate for the in-chart broker's mutual TLS. */}}
{{- define "mc.broker.bridgeClientSecret" -}}
{{- if eq .Values.broker.tls.certificates "secret" -}}{{ required "mqtt.tlsSecret (the bridge's tls.crt/tls.key) is required with broker.tls.clientAuth and broker.tls.certificates=secret" .Values.mqtt.tlsSecret }}{{- else -}}{{ include "mc.name" . }}-bridge-mqtt-client{{- end -}}
{{- end -}}
{{/* In-chart broker serving mqtts? */}}
{{- define "mc.broker.tls" -}}{{ if and .Values.broker.enabled (not .Values.mqtt.url) .Values.broker.tls.enabled }}true{{ end }}{{- end -}}
