#!/bin/sh
# Renders alertmanager.yml from the environment: on every line ending in `# env: NAME`, the value
# after the key is replaced by $NAME (YAML-quoted) when NAME is set and not empty. Comment lines
# are copied as they are.
# Usage: render-config.sh <in.yml> <out.yml>   (POSIX sh; runs in the busybox-based image)
set -eu
in=$1
out=$2
tmp="$out.tmp.$$"
: >"$tmp"
while IFS= read -r line || [ -n "$line" ]; do
  trimmed=${line#"${line%%[! ]*}"}
  case $trimmed in
    "#"*) ;;
    *"# env: "*)
      name=${line##*# env: }
      case $name in *[!A-Za-z0-9_]* | "") echo "render-config: bad env marker: $line" >&2; exit 1 ;; esac
      eval "val=\${$name:-}"
      if [ -n "$val" ]; then
        key=${line%%:*}
        # true/false stay YAML booleans (smtp_require_tls); anything else is a double-quoted
        # YAML scalar with backslashes and quotes escaped.
        case $val in
          true | false) printf '%s: %s  # from $%s\n' "$key" "$val" "$name" >>"$tmp" ;;
          *)
            esc=$(printf '%s' "$val" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
            printf '%s: "%s"  # from $%s\n' "$key" "$esc" "$name" >>"$tmp"
            ;;
        esac
        continue
      fi
      ;;
  esac
  printf '%s\n' "$line" >>"$tmp"
done <"$in"
mv "$tmp" "$out"
