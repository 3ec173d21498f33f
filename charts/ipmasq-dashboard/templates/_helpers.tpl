{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "ipmasq.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Resource name prefix: the release name, plus the chart name unless already in it. */}}
{{- define "ipmasq.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A name with a suffix that still fits a DNS label: include "ipmasq.suffixed" (list . "reporter") */}}
{{- define "ipmasq.suffixed" -}}
{{- $root := index . 0 -}}
{{- $suffix := index . 1 -}}
{{- printf "%s-%s" (include "ipmasq.fullname" $root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}

{{- define "ipmasq.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every resource. */}}
{{- define "ipmasq.labels" -}}
helm.sh/chart: {{ include "ipmasq.chart" . }}
app.kubernetes.io/name: {{ include "ipmasq.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ipmasq-dashboard
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: include "ipmasq.selectorLabels" (list . "dashboard") */}}
{{- define "ipmasq.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "ipmasq.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* All labels of one component. */}}
{{- define "ipmasq.componentLabels" -}}
{{ include "ipmasq.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "ipmasq.dashboard.serviceAccountName" -}}
{{- default (include "ipmasq.suffixed" (list . "dashboard")) .Values.dashboard.serviceAccount.name -}}
{{- end -}}

{{- define "ipmasq.reporter.serviceAccountName" -}}
{{- default (include "ipmasq.suffixed" (list . "reporter")) .Values.reporter.serviceAccount.name -}}
{{- end -}}

{{/* Namespace of the ip-masq-agent ConfigMap. */}}
{{- define "ipmasq.configMapNamespace" -}}
{{- default .Release.Namespace .Values.ipMasqAgent.namespace -}}
{{- end -}}

{{/*
"true" when reporters mount the ConfigMap: same namespace as the release, and no config sources
(with them the ConfigMap alone is not the merged config: a reporter adopting it while the
dashboard is away would drop the other sources' CIDRs; it keeps its last applied merge instead).
*/}}
{{- define "ipmasq.mountConfigMap" -}}
{{- if and .Values.reporter.mountConfigMap (not .Values.configSources.prefix) (eq (include "ipmasq.configMapNamespace" .) .Release.Namespace) -}}
true
{{- end -}}
{{- end -}}

{{/* History ConfigMap (in the ConfigMap namespace); the dashboard's own default name. */}}
{{- define "ipmasq.historyConfigMapName" -}}
{{- default (printf "%s-history" .Values.ipMasqAgent.name) .Values.dashboard.historyConfigMap.name -}}
{{- end -}}

{{/* "true" when the dashboard writes Leases: the singleton one, or its replica Lease. */}}
{{- define "ipmasq.leases" -}}
{{- if or .Values.dashboard.leaderElection.enabled .Values.dashboard.replicaSync.enabled -}}
true
{{- end -}}
{{- end -}}

{{- define "ipmasq.leaseName" -}}
{{- default (include "ipmasq.fullname" .) .Values.dashboard.leaderElection.leaseName -}}
{{- end -}}

{{/* The dashboard Service's name: the fullname. */}}
{{- define "ipmasq.serviceName" -}}
{{- include "ipmasq.fullname" . -}}
{{- end -}}

{{/* The reporters' Service: the dashboard pods without session affinity (reporter-service.yaml). */}}
{{- define "ipmasq.reporterServiceName" -}}
{{- include "ipmasq.suffixed" (list . "reporters") -}}
{{- end -}}

{{- define "ipmasq.dashboardURL" -}}
{{- if .Values.reporter.dashboardURL -}}
{{- .Values.reporter.dashboardURL -}}
{{- else -}}
{{- printf "ws://%s.%s.svc.%s:%v/api/reporter" (include "ipmasq.reporterServiceName" .) .Release.Namespace .Values.clusterDomain .Values.dashboard.service.port -}}
{{- end -}}
{{- end -}}

{{/* image reference: include "ipmasq.image" (dict "image" .Values.dashboard.image "default" .Chart.AppVersion) */}}
{{- define "ipmasq.image" -}}
{{- printf "%s:%s" .image.repository (default .default .image.tag | toString) -}}
{{- end -}}

{{/* Where the projected dashboard token is mounted, and its file. */}}
{{- define "ipmasq.tokenDir" -}}/var/run/secrets/ipmasq-dashboard{{- end -}}
{{- define "ipmasq.tokenFile" -}}{{ include "ipmasq.tokenDir" . }}/token{{- end -}}

{{/* Projected ServiceAccount token for the dashboard (audience auth.reporterAudience). */}}
{{- define "ipmasq.tokenVolume" -}}
- name: dashboard-token
  projected:
    defaultMode: 0444
    sources:
      - serviceAccountToken:
          audience: {{ .Values.auth.reporterAudience | quote }}
          expirationSeconds: {{ .Values.auth.reporterTokenExpirationSeconds }}
          path: token
{{- end -}}

{{/* The ip-masq-agent ConfigMap volume, mounted like upstream: key config → /etc/config/ip-masq-agent. */}}
{{- define "ipmasq.configVolume" -}}
- name: config
  configMap:
    name: {{ .Values.ipMasqAgent.name }}
    optional: true
    items:
      - key: config
        path: ip-masq-agent
{{- end -}}

{{/* Environment shared by the Linux and Windows reporters: include "ipmasq.reporterEnv" (dict "root" . "url" URL "stateDir" DIR) */}}
{{/*
A duration of the values' form (one or more <number><ms|s|m>, as values.schema.json allows:
"1.5s", "500ms", "1m30s") in milliseconds, as a decimal string. The same value the reporter's Go
duration parser gives (apps/reporter/src/cli/link-options.ts parseInterval).
*/}}
{{- define "ipmasq.durationMs" -}}
{{- $ms := 0.0 -}}
{{- $unitMs := dict "ms" 1.0 "s" 1000.0 "m" 60000.0 -}}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ms|s|m)" . -1 -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" . -}}
{{- $ms = addf $ms (mulf (float64 $number) (get $unitMs (trimPrefix $number .))) -}}
{{- end -}}
{{- $ms -}}
{{- end -}}

{{/*
Fails on reporter.liveness values the reporter would refuse at start (a crash-looping
DaemonSet), with the reporter's bounds: pingIdle 0.5s–60s, deadAfter at most 300s and at least
1s above pingIdle, hedge 0.1s–60s (LIVENESS_BOUNDS in apps/reporter/src/cli/link-options.ts; a
chart test checks the two agree).
*/}}
{{- define "ipmasq.checkLiveness" -}}
{{- $l := .Values.reporter.liveness -}}
{{- $idle := include "ipmasq.durationMs" $l.pingIdle | float64 -}}
{{- $dead := include "ipmasq.durationMs" $l.deadAfter | float64 -}}
{{- $hedge := include "ipmasq.durationMs" $l.hedge | float64 -}}
{{- if or (lt $idle 500.0) (gt $idle 60000.0) -}}
{{- fail (printf "reporter.liveness.pingIdle: %s is outside 0.5s–60s" $l.pingIdle) -}}
{{- end -}}
{{- if gt $dead 300000.0 -}}
{{- fail (printf "reporter.liveness.deadAfter: %s is above 300s" $l.deadAfter) -}}
{{- end -}}
{{- if lt $dead (addf $idle 1000.0) -}}
{{- fail (printf "reporter.liveness.deadAfter %s must exceed reporter.liveness.pingIdle %s by at least 1s, the time a ping needs to be answered" $l.deadAfter $l.pingIdle) -}}
{{- end -}}
{{- if or (lt $hedge 100.0) (gt $hedge 60000.0) -}}
{{- fail (printf "reporter.liveness.hedge: %s is outside 0.1s–60s" $l.hedge) -}}
{{- end -}}
{{- end -}}

{{- define "ipmasq.reporterEnv" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- include "ipmasq.checkLiveness" $root -}}
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: IPMASQ_DASHBOARD
  value: {{ .url | quote }}
- name: IPMASQ_TOKEN_FILE
  value: {{ include "ipmasq.tokenFile" $root | quote }}
- name: IPMASQ_MODE
  value: {{ $v.reporter.mode | quote }}
- name: IPMASQ_STATE_DIR
  value: {{ .stateDir | quote }}
- name: IPMASQ_METRICS_PORT
  value: {{ $v.reporter.metricsPort | quote }}
- name: IPMASQ_HEAL
  value: {{ $v.reporter.heal | quote }}
- name: IPMASQ_POLL_INTERVAL
  value: {{ $v.reporter.pollInterval | quote }}
{{- if include "ipmasq.mountConfigMap" $root }}
- name: IPMASQ_CONFIG_FILE
  value: /etc/config/ip-masq-agent
{{- end }}
- name: IPMASQ_MASQ_CHAIN
  value: {{ $v.agent.masqChain | quote }}
- name: IPMASQ_RANDOM_FULLY
  value: {{ $v.agent.randomFully | quote }}
- name: IPMASQ_TO_PORTS
  value: {{ $v.agent.toPorts | quote }}
- name: IPMASQ_ENABLE_IPV6
  value: {{ $v.agent.enableIPv6 | quote }}
- name: IPMASQ_NOMASQ_ALL_RESERVED_RANGES
  value: {{ $v.agent.nomasqAllReservedRanges | quote }}
- name: IPMASQ_LOG_LEVEL
  value: {{ $v.reporter.logLevel | quote }}
- name: IPMASQ_LIVENESS_PING_IDLE
  value: {{ $v.reporter.liveness.pingIdle | quote }}
- name: IPMASQ_LIVENESS_DEAD_AFTER
  value: {{ $v.reporter.liveness.deadAfter | quote }}
- name: IPMASQ_LIVENESS_HEDGE
  value: {{ $v.reporter.liveness.hedge | quote }}
{{- end -}}

{{/* The reporters' CA bundle for wss:// (reporter.dashboardCA): "" when none, else the file path. Fails on a bad combination. */}}
{{- define "ipmasq.dashboardCAFile" -}}
{{- $ca := .Values.reporter.dashboardCA -}}
{{- if and $ca.secretName $ca.configMapName -}}
{{- fail "reporter.dashboardCA: set secretName or configMapName, not both" -}}
{{- end -}}
{{- if or $ca.secretName $ca.configMapName -}}
{{- if not (hasPrefix "wss://" (include "ipmasq.dashboardURL" .)) -}}
{{- fail "reporter.dashboardCA is for a wss:// reporter.dashboardURL (a TLS proxy in front of the dashboard); the URL is not wss://" -}}
{{- end -}}
{{- printf "/etc/ipmasq/dashboard-ca/%s" $ca.key -}}
{{- end -}}
{{- end -}}

{{/* The CA bundle's volume (reporter.dashboardCA), for a reporter whose URL is wss://. */}}
{{- define "ipmasq.dashboardCAVolume" -}}
{{- $ca := .Values.reporter.dashboardCA -}}
- name: dashboard-ca
{{- if $ca.secretName }}
  secret:
    secretName: {{ $ca.secretName }}
{{- else }}
  configMap:
    name: {{ $ca.configMapName }}
{{- end }}
    items:
      - key: {{ $ca.key | quote }}
        path: {{ $ca.key | quote }}
{{- end -}}

{{/* Its mount, at the directory ipmasq.dashboardCAFile names. */}}
{{- define "ipmasq.dashboardCAMount" -}}
- name: dashboard-ca
  mountPath: /etc/ipmasq/dashboard-ca
  readOnly: true
{{- end -}}

{{/* Editable config sources besides ipMasqAgent.name and the history ConfigMap, comma-separated. */}}
{{- define "ipmasq.editableSources" -}}
{{- without (uniq .Values.configSources.editable) .Values.ipMasqAgent.name (include "ipmasq.historyConfigMapName" .) | join "," -}}
{{- end -}}

{{/*
The dashboard's topologySpreadConstraints: dashboard.topologySpreadConstraints as given (a
constraint without labelSelector gets the dashboard pods' labels), else one per
dashboard.topologySpread.topologyKeys. matchLabelKeys pod-template-hash counts only the pods of
the same ReplicaSet, so a rolling update's surge pod does not skew the spread of the new ones.
*/}}
{{- define "ipmasq.dashboard.topologySpread" -}}
{{- $d := .Values.dashboard -}}
{{- $selector := dict "matchLabels" (include "ipmasq.selectorLabels" (list . "dashboard") | fromYaml) -}}
{{- $out := list -}}
{{- if $d.topologySpreadConstraints -}}
{{- range $d.topologySpreadConstraints -}}
{{- $out = append $out (merge (deepCopy .) (dict "labelSelector" $selector)) -}}
{{- end -}}
{{- else -}}
{{- range $d.topologySpread.topologyKeys -}}
{{- $out = append $out (dict "topologyKey" . "maxSkew" $d.topologySpread.maxSkew "whenUnsatisfiable" $d.topologySpread.whenUnsatisfiable "labelSelector" $selector "matchLabelKeys" (list "pod-template-hash")) -}}
{{- end -}}
{{- end -}}
{{- with $out -}}
{{- toYaml . -}}
{{- end -}}
{{- end -}}
