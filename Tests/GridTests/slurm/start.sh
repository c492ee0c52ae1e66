#!/usr/bin/env bash
# Starts a private single-node Slurm (munge + slurmctld + slurmd) under the folder $1, using nothing in /etc.
# Clients need SLURM_CONF=$1/slurm.conf. Stop it with stop.sh $1. Needs root and Debian's slurm-wlm + munge.
# Tested on a 2-CPU machine without systemd.
set -euo pipefail
B=${1:?usage: start.sh STATE_DIR}
for tool in munged mungekey slurmctld slurmd sinfo; do
  command -v "$tool" >/dev/null || { echo "start.sh: '$tool' not found. Fix: apt-get install slurm-wlm munge" >&2; exit 2; }
done
mkdir -p "$B"; B=$(cd "$B" && pwd)
H=$(hostname -s)
M=$(( $(awk '/MemAvailable/{print int($2/1024)}' /proc/meminfo) - 1024 ))
mkdir -p "$B"/munge/{etc,run,log,lib} "$B"/spool/{ctld,d} "$B"/log "$B"/out
chmod 700 "$B"/munge/etc "$B"/munge/log "$B"/munge/lib; chmod 755 "$B"/munge/run
[ -f "$B/munge/etc/munge.key" ] || { mungekey --create --keyfile="$B/munge/etc/munge.key"; chmod 400 "$B/munge/etc/munge.key"; }
TOPO=$(slurmd -C | head -1 | grep -o 'CPUs=.*ThreadsPerCore=[0-9]*' | sed 's/Boards=[0-9]* //; s/SocketsPerBoard/Sockets/')
# Two free TCP ports (6817/6818 unless taken, e.g. by another developer's Slurm).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
P=6817
while ! port_free "$P" || ! port_free $((P + 1)); do P=$((P + 2)); done
cat > "$B/slurm.conf" <<CONF
ClusterName=local
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$B/munge/run/munge.socket.2
SlurmctldPort=$P
SlurmdPort=$((P + 1))
StateSaveLocation=$B/spool/ctld
SlurmdSpoolDir=$B/spool/d
SlurmctldPidFile=$B/slurmctld.pid
SlurmdPidFile=$B/slurmd.pid
SlurmctldLogFile=$B/log/slurmctld.log
SlurmdLogFile=$B/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
InactiveLimit=0
KillWait=5
MinJobAge=60
Waittime=0
NodeName=$H NodeAddr=127.0.0.1 $TOPO RealMemory=$M State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
export SLURM_CONF=$B/slurm.conf
munged --force --key-file="$B/munge/etc/munge.key" --socket="$B/munge/run/munge.socket.2" \
  --pid-file="$B/munge/run/munged.pid" --log-file="$B/munge/log/munged.log" --seed-file="$B/munge/lib/munged.seed"
slurmctld
slurmd
for _ in $(seq 150); do [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && exit 0; sleep 0.2; done
echo "start.sh: the node did not become idle in 30 s; see $B/log/" >&2
sinfo >&2 || true
exit 1
