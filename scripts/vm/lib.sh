# shellcheck shell=bash
# The VM suite's machinery, sourced by scripts/vm/run-scenario: disks, NICs, one boot of the
# guest under QEMU, the channels to it (serial console file, virtio-serial result ports,
# qemu-guest-agent, SSH through a loopback-only hostfwd, QMP), the checks every boot gets,
# and the transcript kept for a failed scenario.
#
# Environment (set by scripts/vm-test): VM_IMG (cached guest dir), VM_ROOT (root.img of this
# run), VM_ROOT_NOKEY, VM_KEY (private key), VM_ACCEL (tcg|kvm), VM_OUT (target/vm-test).
# Guest traffic never leaves loopback and the guest's own user-mode network (restrict=on).

HERE_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QMP="$HERE_LIB/qmp.py"

# ---------------------------------------------------------------- scenario state
SCN='' SDIR='' BOOT=0 BDIR='' FAILS=0 CHECKS=0
DISK_ARGS=() DISK_LIST=() NIC_LIST=() NEED_USB=0 FWCFG=() QEMU_EXTRA=()
SERIAL_MODE=file ROOT_IMG=''
QPID='' SSH_PORT='' T_CONT=''
declare -A FIG=()

scenario_begin() { # NAME
  SCN=$1 SDIR=$VM_OUT/$1
  rm -rf "$SDIR"; mkdir -p "$SDIR"
  ROOT_IMG=$VM_ROOT
  : >"$SDIR/transcript.txt"
  T_SCN=$(date +%s.%N)
}

say() { echo "[$(date +%H:%M:%S)] $*" >>"$SDIR/transcript.txt"; }

# check NAME COMMAND... : one assertion; its output goes to the transcript either way.
check() {
  local name=$1 out rc
  shift
  CHECKS=$((CHECKS + 1))
  out=$("$@" 2>&1) && rc=0 || rc=$?
  if [ "$rc" = 0 ]; then
    say "PASS $name${out:+: ${out//$'\n'/ | }}"
  else
    FAILS=$((FAILS + 1))
    say "FAIL $name (exit $rc)"
    [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/      /' >>"$SDIR/transcript.txt"
    echo "$name" >>"$SDIR/failed-checks"
  fi
  return 0
}
fail() { # fail NAME MESSAGE: a failed assertion found outside check()
  CHECKS=$((CHECKS + 1)) FAILS=$((FAILS + 1))
  say "FAIL $1: $2"
  echo "$1" >>"$SDIR/failed-checks"
}

# ---------------------------------------------------------------- hardware
# disk KIND SIZE SERIAL [BASE]: KIND ssd|hdd|nvme|usb; a blank sparse qcow2 (or an overlay
# over BASE, a seeded image) that keeps its contents across the boots of one scenario.
disk() {
  local kind=$1 size=$2 serial=$3 base=${4:-} id f
  id=d${#DISK_LIST[@]}
  f=$SDIR/disk-$serial.qcow2
  if [ ! -e "$f" ]; then
    if [ -n "$base" ]; then
      qemu-img create -q -f qcow2 -b "$base" -F qcow2 "$f"
    else
      qemu-img create -q -f qcow2 "$f" "$size"
    fi
  fi
  # detect-zeroes: md resync and mkfs write zeros; keep them as sparse clusters.
  local drv="-drive if=none,id=$id,file=$f,format=qcow2,detect-zeroes=on,cache=unsafe"
  # DISK_DISCARD=1: the guest's discards reach the image (a discarded cluster of a qcow2 v3
  # overlay reads zero, even over a backing file), as on a real SSD that honours them.
  [ "${DISK_DISCARD:-0}" = 1 ] && drv+=",discard=unmap"
  case $kind in
  ssd) DISK_ARGS+=($drv -device "scsi-hd,bus=scsi0.0,drive=$id,rotation_rate=1,serial=$serial") ;;
  hdd) DISK_ARGS+=($drv -device "scsi-hd,bus=scsi0.0,drive=$id,rotation_rate=7200,serial=$serial") ;;
  nvme) DISK_ARGS+=($drv -device "nvme,drive=$id,serial=$serial") ;;
  usb) NEED_USB=1 DISK_ARGS+=($drv -device "usb-storage,bus=xhci.0,drive=$id,serial=$serial,removable=on") ;;
  *) echo "disk: unknown kind $kind" >&2; return 1 ;;
  esac
  DISK_LIST+=("$serial:$kind:$f")
}

# nic MAC up|down: a virtio NIC on its own user-mode network (restrict=on: no route out),
# whose port 22 is forwarded from a free 127.0.0.1 port. "down" = no carrier from power-on.
nic() { NIC_LIST+=("$1:$2"); }

disk_file() { # SERIAL -> qcow2 path
  local d
  for d in "${DISK_LIST[@]}"; do [ "${d%%:*}" = "$1" ] && { echo "${d##*:}"; return; }; done
  return 1
}

# ---------------------------------------------------------------- guest access
# gx COMMAND: run a shell command in the guest through qemu-guest-agent (works with sshd off).
gx() {
  local out rc
  out=$("$QMP" qga "$BDIR/qga.sock" "${GX_TIMEOUT:-60}" "$1" 2>&1) && rc=0 || rc=$?
  printf '$ %s  [qga, exit %s]\n%s\n' "$1" "$rc" "$(printf '%s' "$out" | head -c 4000)" >>"$BDIR/commands.txt"
  printf '%s' "$out"
  return $rc
}
# gx_to FILE COMMAND: like gx, but stdout to FILE (not logged in full).
gx_to() {
  local rc
  "$QMP" qga "$BDIR/qga.sock" "${GX_TIMEOUT:-60}" "$2" >"$1" 2>"$1.err" && rc=0 || rc=$?
  printf '$ %s  [qga, exit %s, %s bytes to %s]\n' "$2" "$rc" "$(stat -c %s "$1")" "${1##*/}" >>"$BDIR/commands.txt"
  return $rc
}
SSH_OPTS=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
  -o ConnectTimeout=10 -o BatchMode=yes -o IdentitiesOnly=yes)
vssh() { # vssh COMMAND: as root over the forwarded port with the run's key
  local out rc
  out=$(ssh -i "$VM_KEY" -p "$SSH_PORT" "${SSH_OPTS[@]}" root@127.0.0.1 "$1" 2>&1) && rc=0 || rc=$?
  printf '$ %s  [ssh, exit %s]\n%s\n' "$1" "$rc" "$(printf '%s' "$out" | head -c 4000)" >>"$BDIR/commands.txt"
  printf '%s' "$out"
  return $rc
}
qmp() { "$QMP" qmp "$BDIR/qmp.sock" "$@" >>"$BDIR/commands.txt" 2>&1; }

# ---------------------------------------------------------------- one boot
# boot_vm [KERNEL-ARGS...]: fresh root overlay, start QEMU paused, take carrier away from the
# "down" NICs, start the CPUs, wait until the guest reports the boot finished (job queue
# empty), collect the report. Returns non-zero when the guest never got there.
boot_vm() {
  BOOT=$((BOOT + 1))
  BDIR=$SDIR/boot$BOOT
  mkdir -p "$BDIR"
  qemu-img create -q -f qcow2 -b "$ROOT_IMG" -F raw "$BDIR/root.qcow2"
  local append="console=tty0 console=ttyS0,115200n8 root=/dev/vda rw panic=-1 loglevel=5 $*"
  local acc net=() i=0 n mac state ports=() serial=()
  case $VM_ACCEL in
  kvm) acc=(-accel kvm -cpu host) ;;
  *) acc=(-accel tcg,thread=multi,tb-size=256 -cpu max) ;;
  esac
  case $SERIAL_MODE in
  file) serial=(-serial "file:$BDIR/console.log") ;;
  none) serial=(-serial none) ;;
  # A socket nobody ever connects to: QEMU drops what the UART sends, like a real serial
  # line with nothing plugged in.
  unread) serial=(-chardev "socket,id=ser0,path=$BDIR/serial.sock,server=on,wait=off" -serial chardev:ser0) ;;
  esac
  local usb=()
  [ "$NEED_USB" = 1 ] && usb=(-device qemu-xhci,id=xhci)
  # Ports: picked free and bound by QEMU while this lock is held, so two scenarios running
  # side by side never race for the same one.
  exec {lockfd}>"$VM_OUT/.port.lock"
  flock "$lockfd"
  for n in "${NIC_LIST[@]}"; do
    mac=${n%:*} state=${n##*:}
    local port
    port=$("$QMP" freeport)
    ports+=("$port")
    # NIC0_FWD: extra options for the first NIC's network (a guestfwd to a loopback
    # collector, issue 16); restrict=on does not apply to explicit forwards.
    local fwd=''
    [ "$i" = 0 ] && fwd=${NIC0_FWD:-}
    net+=(-netdev "user,id=n$i,restrict=on,net=10.0.$((2 + i)).0/24,hostfwd=tcp:127.0.0.1:$port-:22$fwd"
      -device "virtio-net-pci,netdev=n$i,mac=$mac")
    echo "n$i $mac $state $port 10.0.$((2 + i))" >>"$BDIR/nics"
    i=$((i + 1))
  done
  say "boot $BOOT: $SCN, append: $*"
  qemu-system-x86_64 -machine q35 "${acc[@]}" -m "${VM_MEM:-1024}" -smp 2 \
    -nodefaults -no-user-config -display none -no-reboot -S -pidfile "$BDIR/qemu.pid" \
    -kernel "$VM_IMG/vmlinuz" -initrd "$VM_IMG/initrd.img" -append "$append" \
    "${serial[@]}" -qmp "unix:$BDIR/qmp.sock,server=on,wait=off" \
    -drive "if=none,id=root,file=$BDIR/root.qcow2,format=qcow2,cache=unsafe" \
    -device virtio-blk-pci,drive=root,serial=vm-root \
    -device virtio-scsi-pci,id=scsi0 "${usb[@]}" "${DISK_ARGS[@]}" "${net[@]}" \
    -device virtio-serial-pci \
    -chardev "file,id=res,path=$BDIR/results.txt" -device virtserialport,chardev=res,name=vmtest.results \
    -chardev "file,id=jrn,path=$BDIR/journal.txt" -device virtserialport,chardev=jrn,name=vmtest.journal \
    -chardev "socket,id=qga,path=$BDIR/qga.sock,server=on,wait=off" \
    -device virtserialport,chardev=qga,name=org.qemu.guest_agent.0 \
    "${FWCFG[@]}" "${QEMU_EXTRA[@]}" >"$BDIR/qemu.out" 2>&1 &
  QPID=$!
  local t
  for t in $(seq 1 200); do [ -S "$BDIR/qmp.sock" ] && break; kill -0 "$QPID" 2>/dev/null || break; sleep 0.05; done
  flock -u "$lockfd"; exec {lockfd}>&-
  if [ ! -S "$BDIR/qmp.sock" ]; then
    fail qemu-start "QEMU did not start: $(cat "$BDIR/qemu.out")"
    return 1
  fi
  i=0
  for n in "${NIC_LIST[@]}"; do
    [ "${n##*:}" = down ] && qmp set_link "{\"name\":\"n$i\",\"up\":false}"
    i=$((i + 1))
  done
  # SSH goes to the first NIC with carrier (the one pre-nixos must choose); with none, NIC 0.
  SSH_PORT=${ports[0]}
  i=0
  for n in "${NIC_LIST[@]}"; do
    [ "${n##*:}" = up ] && { SSH_PORT=${ports[$i]}; break; }
    i=$((i + 1))
  done
  T_CONT=$(date +%s.%N)
  qmp cont
  if [ "${EXPECT_SSH:-1}" = 1 ]; then
    # Probing starts once the guest agent shows the lease, so no probe waits in slirp's
    # SYN retries (issue 13): lease-seen and ssh-reachable share the host's clock.
    "$QMP" wait-lease-ssh "$BDIR/qga.sock" "$SSH_PORT" "${VM_BOOT_TIMEOUT:-420}" "$BDIR/lease-seen" >"$BDIR/ssh-reachable" 2>>"$BDIR/wait-ssh.err" &
    WAITSSH_PID=$!
  else
    WAITSSH_PID=''
  fi
  if ! wait_mark 'MARK boot-finished' "${VM_BOOT_TIMEOUT:-420}"; then
    # A guest kernel that never reached userspace (seen once under TCG: CPU 0 held at one
    # instruction of an initcall for minutes) is told apart from a boot our units held up.
    local stuck
    stuck=$(grep -m1 -A8 -E 'soft lockup|self-detected stall' "$BDIR/console.log" 2>/dev/null | grep -m1 'RIP:' | tr -s ' ' || true)
    fail boot-finished "the guest did not finish booting within ${VM_BOOT_TIMEOUT:-420}s ($(tail -c 300 "$BDIR/results.txt" 2>/dev/null | tr '\n' ' '))${stuck:+; the guest kernel was stuck (soft lockup,$stuck), see the console}"
    GX_TIMEOUT=20 gx_to "$BDIR/journal-qga.txt" 'journalctl -b --no-pager -o short-monotonic' || true
    GX_TIMEOUT=20 gx 'systemctl list-jobs --no-pager; systemctl --failed --no-pager' >/dev/null || true
    return 1
  fi
  # The boot no longer waits for storage: the runner reports once pre-nixos' flow ended,
  # which may be minutes after the boot finished.
  # The report comes once pre-nixos' flow ended: under TCG on a slow or loaded machine the
  # largest layouts took over 8 minutes of storage (scenario 5), so this bound is wide; it
  # only ever matters for a flow that hangs, which the unit's own RuntimeMaxSec= ends.
  wait_mark 'MARK runner-done' "${VM_FLOW_TIMEOUT:-1500}" || fail runner-done "the guest runner did not finish its report within ${VM_FLOW_TIMEOUT:-1500}s"
  FIG[boot${BOOT}_finished_s]=$(sed -n 's/^MARK boot-finished .*uptime=\([0-9.]*\).*/\1/p' "$BDIR/results.txt")
  return 0
}

wait_mark() { # PATTERN TIMEOUT (in results.txt)
  local end=$((SECONDS + $2))
  while ! grep -q "$1" "$BDIR/results.txt" 2>/dev/null; do
    kill -0 "$QPID" 2>/dev/null || { say "QEMU exited while waiting for $1"; return 1; }
    [ "$SECONDS" -lt "$end" ] || { say "timeout waiting for $1"; return 1; }
    sleep 0.2
  done
}

# poweroff_vm: ACPI power button, wait for QEMU to exit; kill it by PID only if it will not.
poweroff_vm() {
  [ -n "$QPID" ] || return 0
  if kill -0 "$QPID" 2>/dev/null; then
    local pid
    pid=$(cat "$BDIR/qemu.pid" 2>/dev/null)
    [ -n "$pid" ] && FIG[rss_mib]=$(awk '/VmHWM/{printf "%d", $2/1024}' "/proc/$pid/status" 2>/dev/null)
    local t0=$SECONDS
    qmp system_powerdown
    for _ in $(seq 1 1200); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$QPID" 2>/dev/null; then
      fail poweroff "the guest did not power off within 120 s of the ACPI power button"
      qmp quit || true
      sleep 1
      kill -0 "$QPID" 2>/dev/null && [ -n "$pid" ] && kill "$pid"
    fi
    say "power-off took $((SECONDS - t0)) s"
  fi
  wait "$QPID" 2>/dev/null || true
  [ -n "${WAITSSH_PID:-}" ] && { kill "$WAITSSH_PID" 2>/dev/null; wait "$WAITSSH_PID" 2>/dev/null; }
  QPID='' WAITSSH_PID=''
  return 0
}

# vm_kill: stop this scenario's QEMU now (interrupted run): QMP quit, then its PID.
vm_kill() {
  [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null || return 0
  "$QMP" qmp "$BDIR/qmp.sock" quit >/dev/null 2>&1
  sleep 1
  kill -0 "$QPID" 2>/dev/null && kill "$(cat "$BDIR/qemu.pid")" 2>/dev/null
  [ -n "${WAITSSH_PID:-}" ] && kill "$WAITSSH_PID" 2>/dev/null
  return 0
}

# ---------------------------------------------------------------- readings
# collect: every independent reading of the storage, and pre-nixos' own view, into $BDIR.
collect() {
  # Readings wait longer than a plain command: right after an apply a RAID5 resync keeps
  # the guest's disks busy, and on a slow machine `blkid -o export` once took over 60 s.
  local GX_TIMEOUT=${VM_READ_TIMEOUT:-300}
  gx_to "$BDIR/lsblk.json" 'lsblk -J -b -o NAME,KNAME,PATH,TYPE,SIZE,FSTYPE,LABEL,UUID,PARTLABEL,PARTTYPE,MOUNTPOINTS,SERIAL,PKNAME,ROTA,TRAN,RM' || true
  gx_to "$BDIR/mdadm.txt" 'for m in /dev/md/* /dev/md[0-9]*; do [ -b "$m" ] || continue; echo "== $m $(readlink -f "$m")"; mdadm --detail --export "$m"; mdadm --detail "$m" | sed -n "s/^ *Array Size : \([0-9]*\).*/MD_ARRAY_KIB=\1/p"; done' || true
  gx_to "$BDIR/lvs.json" 'lvs --reportformat json --units b --nosuffix -o lv_name,vg_name,lv_size,lv_attr,lv_path' || true
  gx_to "$BDIR/vgs.json" 'vgs --reportformat json --units b --nosuffix -o vg_name,vg_size,vg_free,vg_extent_size,vg_extent_count,pv_count,lv_count' || true
  gx_to "$BDIR/pvs.json" 'pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size' || true
  gx_to "$BDIR/blkid.txt" 'blkid -o export' || true
  gx_to "$BDIR/findmnt.json" 'findmnt -J -o TARGET,SOURCE,FSTYPE,OPTIONS' || true
  gx_to "$BDIR/modes.txt" 'findmnt -rn -o TARGET | grep "^/mnt" | while read -r t; do stat -c "%a %n" "$t"; done' || true
  gx_to "$BDIR/tune2fs.txt" 'for d in $(blkid -t TYPE=ext4 -o device); do echo "== $d"; tune2fs -l "$d" | grep -E "^(Inode count|Block count|Block size|Filesystem volume name):"; done' || true
  gx_to "$BDIR/swaps.txt" 'cat /proc/swaps' || true
  gx_to "$BDIR/storage-status" 'cat /run/pre-nixos/storage-status' || true
  gx_to "$BDIR/network-status" 'cat /run/pre-nixos/network-status' || true
  gx_to "$BDIR/plan.json" 'cat /run/pre-nixos/storage-plan.json' || true
  gx_to "$BDIR/status.json" 'pre-nixos status --json' || true
  gx_to "$BDIR/actions.log" 'cat /var/log/pre-nixos/actions.log' || true
  gx_to "$BDIR/journal-final.txt" 'journalctl -b --no-pager -o short-monotonic' || true
  gx_to "$BDIR/journal-pre-nixos.json" 'journalctl -b --no-pager -o json -u pre-nixos.service' || true
}

# ---------------------------------------------------------------- standard checks
# boot_checks WORK(yes|no) SSH(yes|no): the boot did not wait for storage (issue 11), for
# every boot pre-nixos ran in: is-system-running reached running/degraded, multi-user.target
# within a few seconds of sshd (SSH=yes) and before the storage stage ended when storage did
# real work (WORK=yes), and systemd drew no "A start job is running" for pre-nixos on the
# console.
boot_checks() {
  local work=$1 ssh=$2
  check "the boot finished (is-system-running: running or degraded)" grep -qE '^MARK boot-finished state=(running|degraded) ' "$BDIR/results.txt"
  check "multi-user.target reached while storage ran, within a few seconds of sshd" "$HERE_LIB/judge.py" boot-while-storage "$BDIR" "$work" "$ssh"
  if [ "$SERIAL_MODE" = file ]; then
    check "no 'A start job is running' for pre-nixos on the console" "$HERE_LIB/judge.py" no-start-job "$BDIR"
  fi
}

# std_checks STATE DETAIL SSH(yes|no): what every boot must show, whatever the scenario.
std_checks() {
  local state=$1 detail=$2 ssh=$3 r=$BDIR/results.txt work=no
  case $detail in auto-applied | wiped-and-applied | resumed) work=yes ;; esac
  boot_checks "$work" "$ssh"
  check "flow finished with every unit fine (is-system-running)" grep -q '^MARK flow-finished state=running ' "$r"
  check "no job left after boot (systemctl list-jobs)" sh -c "! grep '^JOB ' '$r'"
  check "no failed unit" sh -c "! grep '^FAILED ' '$r'"
  check "no unit stuck activating" sh -c "! grep '^ACTIVATING ' '$r'"
  check "pre-nixos.service succeeded" sh -c "grep -q '^pre-nixos.service:Result=success' '$BDIR/units.txt'"
  check "storage-status is STATE=$state DETAIL=$detail" "$HERE_LIB/judge.py" status "$BDIR" "$state" "$detail"
  check "storage-status never seen half-written" "$HERE_LIB/judge.py" samples "$BDIR" "$state"
  check "pre-nixos status --json agrees with storage-status" "$HERE_LIB/judge.py" status-json "$BDIR"
  if [ "$ssh" = yes ]; then
    check "sshd active" sh -c "grep -q '^ssh.service:ActiveState=active' '$BDIR/units.txt'"
    check "sshd active before the storage stage ended" "$HERE_LIB/judge.py" sshd-before-storage-end "$BDIR"
    check "SSH reachable from the host (banner on the forwarded port)" test -s "$BDIR/ssh-reachable"
    check "SSH login with the embedded key" vssh 'true'
    # A figure, not a check (bench-boot shows "-" without it): what one connection to an
    # sshd that is up costs on this machine, the floor under lease -> banner.
    "$QMP" banner-floor "$SSH_PORT" >"$BDIR/banner-floor" 2>"$BDIR/banner-floor.err" || rm -f "$BDIR/banner-floor"
  fi
  if [ "$SERIAL_MODE" = file ]; then
    check "console carries the announce line" "$HERE_LIB/judge.py" announce "$BDIR" "$ssh"
  fi
}

# after_boot: unit states and readings right after the boot finished.
after_boot() {
  gx_to "$BDIR/units.txt" 'for u in pre-nixos.service ssh.service systemd-networkd.service; do systemctl show -p Result -p ActiveState -p ExecMainStatus "$u" | sed "s/^/$u:/"; done' || true
  collect
}

# ---------------------------------------------------------------- end of scenario
scenario_end() {
  local t
  t=$(echo "$(date +%s.%N) - $T_SCN" | bc)
  FIG[scenario_s]=$(printf '%.1f' "$t")
  "$HERE_LIB/judge.py" figures "$SDIR" "$SCN" "$(declare -p FIG | sed 's/^declare -A FIG=//')" >"$SDIR/figures.json" 2>>"$SDIR/transcript.txt" || true
  if [ "$FAILS" = 0 ] && [ "$CHECKS" -gt 0 ]; then
    printf 'PASS %-3s %6.1fs  %s\n' "$SCN" "$t" "$(figures_brief)"
    # Keep the evidence of a passed scenario small: the disks are what is big.
    rm -f "$SDIR"/*.qcow2 "$SDIR"/boot*/root.qcow2 "$SDIR"/seed/*.qcow2
    return 0
  fi
  [ "$CHECKS" = 0 ] && echo "no check ran" >>"$SDIR/failed-checks"
  rm -f "$SDIR"/*.qcow2 "$SDIR"/boot*/root.qcow2
  printf 'FAIL %-3s %6.1fs  %s\n' "$SCN" "$t" "$(head -3 "$SDIR/failed-checks" | paste -sd';' | cut -c1-150)"
  local b
  for b in "$SDIR"/boot*; do
    [ -d "$b" ] || continue
    echo "     console: $b/console.log"
    echo "     journal: $b/journal-final.txt $b/journal.txt"
    echo "     commands: $b/commands.txt"
  done
  echo "     transcript: $SDIR/transcript.txt"
  return 1
}

figures_brief() {
  # Guest clock (s since boot) for sshd, multi-user and the storage end; ssh is the host's
  # wait for the banner.
  jq -r '"sshd \(.sshd_started_s // "-")s, multi-user \(.multi_user_s // "-")s, storage end \(.storage_end_s // "-")s (storage \(.storage_s // "-")s), ssh \(.boot_to_ssh_s // "-")s"' "$SDIR/figures.json" 2>/dev/null
}
