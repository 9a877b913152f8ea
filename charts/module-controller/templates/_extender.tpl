{{/* Extender wiring shared by extender.yaml, extender-tls.yaml and module-scheduler.yaml. */}}
{{- define "mc.extender.name" -}}{{ include "mc.name" . }}-extender{{- end -}}
{{/* The extender serves HTTPS? */}}
{{- define "mc.extender.tls" -}}{{ if .Values.extender.tls.enabled }}true{{ end }}{{- end -}}
{{/* The Secret with the extender's serving certificate: tls.crt, tls.key, ca.crt. */}}
{{- define "mc.extender.tlsSecret" -}}
{{- if eq .Values.extender.tls.certificates "secret" -}}{{ required "extender.tls.existingSecret (tls.crt, tls.key, ca.crt) is required with extender.tls.certificates=secret" .Values.extender.tls.existingSecret }}{{- else -}}{{ include "mc.extender.name" . }}-tls{{- end -}}
{{- end -}}
{{/* The Secret with module-scheduler's client certificate for the extender: tls.crt, tls.key. */}}
{{- define "mc.extender.clientSecret" -}}
{{- if eq .Values.extender.tls.certificates "secret" -}}{{ required "extender.tls.clientSecret (module-scheduler's tls.crt, tls.key) is required with extender.tls.clientAuth and extender.tls.certificates=secret" .Values.extender.tls.clientSecret }}{{- else -}}{{ include "mc.name" . }}-scheduler-extender-client{{- end -}}
{{- end -}}
{{/* The extender's base URL module-scheduler calls. */}}
{{- define "mc.extender.url" -}}{{ if include "mc.extender.tls" . }}https{{ else }}http{{ end }}://{{ include "mc.extender.name" . }}.{{ .Release.Namespace }}.svc:{{ .Values.extender.port }}{{- end -}}
{{/* --base-tenants of the webhook and the extender: <baseName>=<ns>|<ns>,… (empty without reservations). */}}
{{- define "mc.baseTenants" -}}
{{- $entries := list }}
{{- range $base, $namespaces := .Values.baseTenants }}{{ $entries = append $entries (printf "%s=%s" $base (join "|" $namespaces)) }}{{ end }}
{{- join "," $entries }}
{{- end -}}
