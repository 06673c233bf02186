#!/usr/bin/env bash
# Writes the deployment's secrets from the environment into docker/secrets/
# (ignored by git and by the image build), where the stack reads them:
#
#   docker/secrets/alertmanager/smtp_password       Alertmanager's SMTP password
#   docker/secrets/alertmanager/slack_webhook_url   Alertmanager's Slack webhook
#       docker-compose mounts the folder at /etc/alertmanager/secrets;
#       Kubernetes makes the Secret alertmanager-secrets of both files.
#   docker/secrets/csp.env    DB_PASSWORD, JWT_SECRET, GRAFANA_ADMIN_PASSWORD
#       Kubernetes makes the Secret csp-secrets of it (docker-compose reads
#       these variables from the environment directly).
#
# Required: DB_PASSWORD, SMTP_PASSWORD, SLACK_WEBHOOK_URL.
# Optional: JWT_SECRET (empty: tokens and admin endpoints off),
#           GRAFANA_ADMIN_PASSWORD (default admin, changed at first login).
# Alertmanager runs as uid/gid 65534 (nobody): its files are made readable
# by that group, not by everyone.
set -euo pipefail
cd "$(dirname "$0")"
: "${DB_PASSWORD:?set DB_PASSWORD}"
: "${SMTP_PASSWORD:?set SMTP_PASSWORD}"
: "${SLACK_WEBHOOK_URL:?set SLACK_WEBHOOK_URL}"
umask 077
mkdir -p secrets/alertmanager
printf '%s' "$SMTP_PASSWORD" >secrets/alertmanager/smtp_password
printf '%s' "$SLACK_WEBHOOK_URL" >secrets/alertmanager/slack_webhook_url
if chgrp -R 65534 secrets/alertmanager 2>/dev/null; then
  chmod 750 secrets secrets/alertmanager
  chmod 640 secrets/alertmanager/*
  chgrp 65534 secrets
else
  echo "secrets: cannot give the files to group 65534 (not root?); make" \
    "docker/secrets/alertmanager readable by uid 65534 yourself" >&2
fi
{
  printf 'DB_PASSWORD=%s\n' "$DB_PASSWORD"
  printf 'JWT_SECRET=%s\n' "${JWT_SECRET:-}"
  printf 'GRAFANA_ADMIN_PASSWORD=%s\n' "${GRAFANA_ADMIN_PASSWORD:-admin}"
} >secrets/csp.env
echo "secrets: wrote docker/secrets/alertmanager/{smtp_password,slack_webhook_url}" \
  "and docker/secrets/csp.env"
