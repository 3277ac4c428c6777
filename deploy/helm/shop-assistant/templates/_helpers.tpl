{{/* Names, labels and the environment shared by the chart's templates. */}}

{{- define "shop-assistant.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "shop-assistant.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of one component (rasa, actions, web, migrate): pass (list $ "web"). */}}
{{- define "shop-assistant.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "shop-assistant.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-secrets" (include "shop-assistant.fullname" .)) -}}
{{- end -}}

{{- define "shop-assistant.image" -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}

{{/* The Secret's data: the application secrets and the service URLs carrying passwords. */}}
{{- define "shop-assistant.secretData" -}}
{{- $pg := .Values.postgresql -}}
{{- $redis := .Values.redis -}}
{{- $mq := .Values.rabbitmq -}}
{{- range $name, $value := .Values.secrets }}
{{ $name }}: {{ $value | b64enc | quote }}
{{- end }}
POSTGRES_PASSWORD: {{ $pg.password | b64enc | quote }}
REDIS_PASSWORD: {{ $redis.password | b64enc | quote }}
RABBITMQ_PASSWORD: {{ $mq.password | b64enc | quote }}
SHOP_DATABASE_URL: {{ printf "postgresql+psycopg://%s:%s@%s:%v/%s" ($pg.user | urlquery) ($pg.password | urlquery) $pg.host $pg.port $pg.database | b64enc | quote }}
SHOP_TRACKER_DATABASE_URL: {{ printf "postgresql://%s:%s@%s:%v/%s" ($pg.user | urlquery) ($pg.password | urlquery) $pg.host $pg.port $pg.trackerDatabase | b64enc | quote }}
SHOP_REDIS_URL: {{ printf "redis://:%s@%s:%v/%v" ($redis.password | urlquery) $redis.host $redis.port $redis.db | b64enc | quote }}
SHOP_RABBITMQ_URL: {{ printf "amqp://%s:%s@%s:%v/%s" ($mq.user | urlquery) ($mq.password | urlquery) $mq.host $mq.port ($mq.vhost | urlquery) | b64enc | quote }}
{{- end -}}

{{/* Non-secret environment of the application processes (web, actions, migrate). */}}
{{- define "shop-assistant.appEnv" -}}
{{- $hosts := list "localhost" -}}
{{- if .Values.config.SHOP_ALLOWED_HOSTS }}{{- $hosts = append $hosts .Values.config.SHOP_ALLOWED_HOSTS -}}{{- end -}}
{{- if .Values.ingress.enabled }}{{- $hosts = concat $hosts .Values.ingress.hosts -}}{{- end -}}
- name: SHOP_PROFILE
  value: production
- name: SHOP_DATA_DIR
  value: /data
- name: SHOP_WEB_HOST
  value: 0.0.0.0
- name: SHOP_WEB_PORT
  value: "8080"
- name: SANIC_HOST
  value: 0.0.0.0
- name: HOME
  value: /tmp
- name: SHOP_RASA_URL
  value: {{ printf "http://%s-rasa:5005" (include "shop-assistant.fullname" .) | quote }}
- name: ACTION_ENDPOINT_URL
  value: {{ printf "http://%s-actions:5055/webhook" (include "shop-assistant.fullname" .) | quote }}
- name: SHOP_ALLOWED_HOSTS
  value: {{ join "," $hosts | quote }}
{{- range $name, $value := omit .Values.config "SHOP_ALLOWED_HOSTS" }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* One secret key as an environment variable: pass (list $ "NAME"). */}}
{{- define "shop-assistant.secretEnv" -}}
{{- $root := index . 0 -}}
- name: {{ index . 1 }}
  valueFrom:
    secretKeyRef:
      name: {{ include "shop-assistant.secretName" $root }}
      key: {{ index . 1 }}
{{- end -}}

{{/* Probes against an HTTP path; Host: localhost passes the web app's host allowlist. */}}
{{- define "shop-assistant.httpGet" -}}
httpGet:
  path: {{ index . 0 }}
  port: http
  httpHeaders:
    - name: Host
      value: localhost
{{- end -}}

{{/* The secret keys the application processes read (assistant/settings.py): every key under
`secrets` (a new secret setting is one line there) and the service URLs. */}}
{{- define "shop-assistant.requiredSecrets" -}}
SHOP_STORE_SECRET RASA_AUTH_TOKEN ACTION_SERVER_TOKEN GATEWAY_TOKEN SHOP_WEB_SECRET SHOP_STOREFRONT_KEY
{{- end -}}

{{- define "shop-assistant.appSecretEnv" -}}
{{- $required := splitList " " (include "shop-assistant.requiredSecrets" .) -}}
{{- $names := concat (keys (omit .Values.secrets "RASA_MODEL_SERVER_TOKEN") | sortAlpha) (list "SHOP_DATABASE_URL" "SHOP_TRACKER_DATABASE_URL" "SHOP_REDIS_URL" "SHOP_RABBITMQ_URL") -}}
{{- range $name := $names }}
{{ include "shop-assistant.secretEnv" (list $ $name) }}
{{- if not (or (has $name $required) (hasSuffix "_URL" $name)) }}
      optional: true
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level settings every component shares. */}}
{{- define "shop-assistant.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
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

{{/*
A Deployment and Service of the application image (the action server, the web app), which
share the environment, the store volume and the probes: pass
(dict "root" $ "component" "web" "command" (list ...) "port" 8080 "health" "/healthz").
*/}}
{{- define "shop-assistant.appWorkload" -}}
{{- $root := .root -}}
{{- $values := index $root.Values .component -}}
{{- $name := printf "%s-%s" (include "shop-assistant.fullname" $root) .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "shop-assistant.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  {{- if not $values.autoscaling.enabled }}
  replicas: {{ $values.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "shop-assistant.selectorLabels" (list $root .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "shop-assistant.selectorLabels" (list $root .component) | nindent 8 }}
      annotations:
        checksum/secret: {{ include "shop-assistant.secretData" $root | sha256sum }}
        checksum/config: {{ include "shop-assistant.appEnv" $root | sha256sum }}
    spec:
      {{- include "shop-assistant.podCommon" $root | nindent 6 }}
      containers:
        - name: {{ .component }}
          image: {{ include "shop-assistant.image" $root.Values.image.app }}
          imagePullPolicy: {{ $root.Values.image.app.pullPolicy }}
          args:
            {{- toYaml .command | nindent 12 }}
          ports:
            - {name: http, containerPort: {{ .port }}}
          env:
            {{- include "shop-assistant.appEnv" $root | nindent 12 }}
            {{- include "shop-assistant.appSecretEnv" $root | nindent 12 }}
          startupProbe:
            {{- include "shop-assistant.httpGet" (list .health) | nindent 12 }}
            periodSeconds: 5
            failureThreshold: 60
          readinessProbe:
            {{- include "shop-assistant.httpGet" (list .health) | nindent 12 }}
            periodSeconds: 5
            failureThreshold: 3
          livenessProbe:
            {{- include "shop-assistant.httpGet" (list .health) | nindent 12 }}
            periodSeconds: 15
            timeoutSeconds: 5
            failureThreshold: 4
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - {name: data, mountPath: /data}
            - {name: tmp, mountPath: /tmp}
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: {{ $root.Values.persistence.existingClaim | default (printf "%s-data" (include "shop-assistant.fullname" $root)) }}
        - {name: tmp, emptyDir: {}}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "shop-assistant.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  selector:
    {{- include "shop-assistant.selectorLabels" (list $root .component) | nindent 4 }}
  ports:
    - {name: http, port: {{ .port }}, targetPort: http}
{{- end -}}
