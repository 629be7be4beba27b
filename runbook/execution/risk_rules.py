"""The risk rules as data: programs, their subcommands and options, and the risk each brings.

Read-only is an allow-list. A program is read-only only when it is listed here,
and each option it is given is one its entry knows:
- `ANY` options: the program has no option that writes a file, sends data or runs
  code (checked against its manual), so any option keeps it read-only;
- otherwise a getopt-style spec: `ab:` (short `-a`, `-b VALUE`), `--long`, `--long=`
  (takes a value); an option outside the spec makes the command mutating.
`EFFECTS` raise the risk of an option wherever it appears. CLIs with subcommands
map each subcommand path to its risk; an unknown one is mutating. Unknown programs
are mutating. The code that reads these tables is `runbook.execution.risk`.
"""

from __future__ import annotations

from typing import Final

from runbook.model import Risk

ANY: Final = "*"

RO: Final[Risk] = "read-only"
MU: Final[Risk] = "mutating"
DE: Final[Risk] = "destructive"

READ_ONLY: Final[dict[str, str]] = {
    # Programs with no option that writes, sends or runs code: any option is fine.
    **dict.fromkeys(
        """cat tac nl head tail grep egrep fgrep zgrep zcat bzcat xzcat zless rg ag ls ll dir
        ps pgrep pstree top htop atop df du free uptime w who whoami id groups users last
        lastlog logname tty printenv which whereis type stat file wc cut paste join comm
        column fold fmt expand unexpand rev jq gron dig nslookup host drill ping ping6
        traceroute traceroute6 tracepath mtr netstat ss lsof fuser vmstat iostat mpstat pidstat
        sar nproc uname lscpu lsblk lsmod lspci lsusb lsns lsipc blkid findmnt test [ [[ true
        false diff cmp sdiff base32 base64 md5sum sha1sum sha224sum sha256sum sha384sum
        sha512sum b2sum cksum sum readlink realpath basename dirname pwd sleep echo printf
        getent xxd od hexdump strings seq yes expr factor numfmt nslookup whois arch getconf
        locale tput stty true : cd pushd popd dirs wait jobs read shift set shopt unset
        local declare typeset exit return break continue getopts tree loginctl
        iotop nethogs iftop free tload slabtop dmidecode
        lshw lsattr getfacl namei lslocks lslogins pwdx pmap sensors
        nvidia-smi ethtool iwconfig lsscsi""".split(),
        ANY,
    ),
    # Programs with some option that writes, sends or runs code: only these options.
    "sort": "bdfghimMnRrsuVzck:t:S:T: --numeric-sort --human-numeric-sort --reverse --unique "
    "--key= --field-separator= --version-sort --general-numeric-sort --month-sort "
    "--ignore-case --stable --zero-terminated --ignore-leading-blanks --dictionary-order "
    "--check --check= --buffer-size= --parallel= --debug --random-sort --ignore-nonprinting "
    "--sort=",
    "uniq": "cdDiuzf:s:w: --count --repeated --unique --ignore-case --skip-fields= "
    "--skip-chars= --check-chars= --zero-terminated --all-repeated --all-repeated= --group "
    "--group=",
    "tr": "cCdst --complement --delete --squeeze-repeats --truncate-set1",
    "less": "RSNFXriIMmKQsJeEaBcdfgGLnwPx:y:z:j:h:b:p:#: --RAW-CONTROL-CHARS --chop-long-lines "
    "--quit-if-one-screen --no-init --LINE-NUMBERS --ignore-case --IGNORE-CASE",
    "more": "dlfpcsu n:",
    "journalctl": "fenxbkrqamlNFraHT u:n:p:S:U:o:t:g:M:D:b:F: --unit= --user-unit= --follow "
    "--lines --lines= --since= --until= --output= --no-pager --reverse --all --quiet --utc "
    "--grep= --case-sensitive --case-sensitive= --identifier= --machine= --directory= --file= "
    "--list-boots --disk-usage --user --system --full --no-hostname --field= --fields "
    "--output-fields= --boot --boot= --priority= --dmesg --catalog --pager-end --no-full "
    "--merge --header --verify --cursor= --after-cursor= --show-cursor --facility= --namespace=",
    "dmesg": "TtkuHLwxdelrPS -level= l: f: --ctime --human --follow --kernel --userspace "
    "--level= --facility= --decode --time-format= --color --color= --nopager --raw --since= "
    "--until= --show-delta --notime",
    "date": "uRI d: f: r: --date= --utc --rfc-3339= --iso-8601 --iso-8601= --rfc-email "
    "--reference= --universal",
    "hostname": "fsiIAd --fqdn --short --ip-address --all-ip-addresses --domain --all-fqdns",
    "mount": "lv -t: --list --verbose --show-labels",
    "ifconfig": "as",
    "route": "nveFC A:",
    "arp": "anveH: i: --all --numeric --verbose --device=",
    "tee": "aip --append --ignore-interrupts --output-error --output-error=",
    "yq": "rePCMNj0o:I:p: --output-format= --prettyPrint --colors --no-colors --exit-status "
    "--indent= --input-format= --tojson --unwrapScalar --nul-output --no-doc --null-input",
}
"""Read-only programs: ANY option, or the options they may be given."""

EFFECTS: Final[dict[str, dict[str, Risk]]] = {
    "journalctl": {
        "--vacuum-size=": DE,
        "--vacuum-time=": DE,
        "--vacuum-files=": DE,
        "--rotate": MU,
        "--flush": MU,
        "--sync": MU,
        "--relinquish-var": MU,
        "--smart-relinquish-var": MU,
        "--setup-keys": MU,
        "--update-catalog": MU,
    },
    "dmesg": {"-c": DE, "-C": DE, "--clear": DE, "--read-clear": DE, "-D": MU, "-E": MU, "-n": MU},
    "date": {"-s": MU, "--set=": MU},
    "hostname": {"-F": MU, "--file=": MU, "-b": MU, "--boot": MU},
    "sort": {"-o": MU, "--output=": MU, "--compress-program=": MU},
    "mount": {"-o": MU, "-a": MU, "--all": MU},
    "tee": {},
}
"""Options that bring a risk (the option is known, so this is the risk it brings)."""

MAX_POSITIONALS: Final[dict[str, int]] = {
    "uniq": 1,  # a second operand is an output file
    "hostname": 0,  # an operand sets the host name
    "mount": 0,
    "ifconfig": 1,
    "route": 0,
    "arp": 1,
    "more": 99,
}
"""More operands than this: the command changes something (mutating)."""

DESTRUCTIVE_PROGRAMS: Final = frozenset(
    """rm rmdir unlink shred kill pkill killall skill slay mkfs mkfs.ext4 mkfs.xfs mkfs.ext3
    mkfs.btrfs mkfs.vfat mke2fs mkswap wipefs fdisk sfdisk parted sgdisk dd truncate reboot
    poweroff halt shutdown userdel groupdel deluser delgroup blkdiscard""".split()
)
"""Programs whose every use deletes, kills or overwrites (`dd` only with `of=`)."""

INTERPRETERS: Final = frozenset(
    """python python2 python3 perl ruby node nodejs deno bun php lua luajit Rscript tclsh
    wish java jshell groovy scala irb pwsh powershell osascript""".split()
)
"""Their script can run or write anything: never read-only."""

SHELLS: Final = frozenset("sh bash zsh dash ksh mksh ash busybox-sh fish".split())

HOOK_VARIABLES: Final = frozenset(
    """PATH LD_PRELOAD LD_LIBRARY_PATH LD_AUDIT BASH_ENV ENV PROMPT_COMMAND PS0 PS1 PS2 PS4
    PAGER GIT_PAGER MANPAGER SYSTEMD_PAGER EDITOR VISUAL GIT_EDITOR GIT_SSH GIT_SSH_COMMAND
    GIT_EXTERNAL_DIFF GIT_ASKPASS SSH_ASKPASS LESSOPEN LESSCLOSE SHELLOPTS BASHOPTS IFS
    PERL5OPT PERL5LIB PYTHONSTARTUP PYTHONPATH NODE_OPTIONS RUBYOPT GIT_CONFIG_PARAMETERS
    GIT_CONFIG_COUNT GIT_DIR GIT_WORK_TREE GIT_EXEC_PATH KUBECTL_EXTERNAL_DIFF
    BROWSER GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM HISTFILE""".split()
)
"""Variables that make a program run other code; setting one is mutating."""

# Wrappers: program -> (options taking a value, short no-value options that are fine).
WRAPPERS: Final[dict[str, str]] = {
    "env": "iv0 u:C:P: --ignore-environment --null --unset= --chdir= --debug",
    "sudo": "EHnbkKPSil A u:g:h:p:C:U:r:t:T:D: --preserve-env --preserve-env= --user= "
    "--group= --non-interactive --login --shell --",
    "doas": "ns u:C:",
    "nice": "n: --adjustment=",
    "ionice": "t c:n:p: --class= --classdata=",
    "nohup": "",
    "time": "pv f:o:",
    "command": "p",
    "exec": "cl a:",
    "builtin": "",
    "stdbuf": "i:o:e: --input= --output= --error=",
    "timeout": "v k:s: --kill-after= --signal= --preserve-status --foreground --verbose",
    "setsid": "cfw --fork --wait --ctty",
    "unbuffer": "p",
    "chrt": "bfiorpda",
    "taskset": "acp --all-tasks --cpu-list",
    "runuser": "lmp u:g:G: --user= --group= --",
    "nsenter": "aFmuinpUCTrw t:S:G: --target= --mount --uts --ipc --net --pid --all",
    "chroot": "--userspec= --groups= --skip-chdir",
    "xargs": "0rtxp n:L:I:i:P:s:d:E:a: --null --no-run-if-empty --max-args= --max-lines= "
    "--replace= --max-procs= --delimiter= --arg-file= --verbose --exit",
    "caffeinate": "dimsu w:t:",
}
"""Wrappers run the command that follows their options; their risk is that command's."""
WRAPPER_COUNT_ARGS: Final[dict[str, int]] = {"timeout": 1, "chroot": 1}
"""Operands a wrapper takes before the command (`timeout 10 cmd`, `chroot /host cmd`)."""

# CLIs with subcommands -------------------------------------------------------------------------


def table(read: str = "", destructive: str = "", mutating: str = "") -> dict[str, Risk]:
    """Subcommand paths (comma-separated, words space-separated) -> risk."""
    found: dict[str, Risk] = {}
    for text, risk in ((mutating, MU), (read, RO), (destructive, DE)):
        for entry in text.split(","):
            key = " ".join(entry.split())
            if key:
                found[key] = risk
    return found


def words(text: str) -> str:
    """Single-word subcommands, space-separated, as a `table` entry list."""
    return ",".join(text.split())


KUBE_VALUES = (
    "-n --namespace -c --container -l --selector -o --output --context --cluster --kubeconfig "
    "--server -s --token --user --as --as-group -f --filename --field-selector --since "
    "--since-time --tail --template -L --label-columns --sort-by --request-timeout "
    "--certificate-authority --client-certificate --client-key --max-log-requests --timeout "
    "--for --type --patch --replicas --image --raw"
)
KUBE = table(
    read=words(
        "get describe logs log top explain api-resources api-versions cluster-info version diff "
        "events wait whoami status completion kustomize projects"
    )
    + ", auth can-i, auth whoami, config view, config get-contexts, config current-context,"
    " config get-clusters, config get-users, rollout status, rollout history, adm top,"
    " plugin list",
    destructive="delete, adm prune",
)
DOCKER_VALUES = (
    "-H --host --context -c --config -l --log-level -f --filter --format -n --tail --since "
    "--until -p --project-name --project-directory --env-file --file -e --env -u --user -w "
    "--workdir --profile"
)
DOCKER = table(
    read=words("ps inspect logs stats images version info top port diff events history search")
    + ", container ls, container list, container ps, container inspect, container logs,"
    " container top, container port, container stats, container diff, image ls, image list,"
    " image inspect, image history, network ls, network list, network inspect, volume ls,"
    " volume list, volume inspect, system df, system info, system events, context ls,"
    " context show, context inspect, buildx ls, buildx inspect, node ls, node inspect, node ps,"
    " service ls, service ps, service inspect, service logs, stack ls, stack ps,"
    " stack services, secret ls, secret inspect, config ls, config inspect, manifest inspect,"
    " plugin ls, plugin inspect, compose ps, compose logs, compose config, compose top,"
    " compose images, compose version, compose ls, compose events, compose port",
    destructive="rm, rmi, kill, container rm, container prune, container kill, image rm,"
    " image prune, volume rm, volume prune, network rm, network prune, system prune,"
    " builder prune, buildx prune, stack rm, service rm, secret rm, config rm, node rm,"
    " swarm leave, plugin rm, context rm, compose down, compose rm, compose kill",
)
COMPOSE = {k.removeprefix("compose "): v for k, v in DOCKER.items() if k.startswith("compose ")}
HELM = table(
    read=words("list ls status history get show template lint version env search verify diff")
    + ", repo list, plugin list, dependency list, dep list, get all, get values, get manifest,"
    " get notes, get hooks, show values, show chart, show all, show readme, search repo,"
    " search hub",
    destructive=words("uninstall delete del un"),
)
HELM_VALUES = "-n --namespace --kube-context --kubeconfig -o --output -f --values --revision --set"
SYSTEMCTL = table(
    read=words(
        "status show is-active is-enabled is-failed is-system-running list-units list-unit-files "
        "list-timers list-sockets list-dependencies list-jobs list-machines list-automounts "
        "list-paths cat get-default show-environment help"
    ),
    destructive=words("kill poweroff halt reboot kexec clean"),
)
CONSUL = table(
    read="kv get, kv export, members, info, version, monitor, catalog services, catalog nodes,"
    " catalog datacenters, operator raft list-peers, operator autopilot get-config,"
    " operator autopilot state, acl policy list, acl policy read, acl token list,"
    " acl token read, acl role list, intention list, intention get, intention check,"
    " intention match, config list, config read, snapshot inspect, peering list, rtt",
    destructive="kv delete, operator raft remove-peer, acl policy delete, acl token delete,"
    " acl role delete, intention delete, config delete, services deregister, peering delete,"
    " force-leave",
)
ETCDCTL = table(
    read="get, endpoint health, endpoint status, endpoint hashkv, member list, alarm list,"
    " version, snapshot status, watch, user list, user get, role list, role get, auth status,"
    " lease list, lease timetolive",
    destructive="del, compaction, compact, member remove, lease revoke, user delete, role delete",
)
ETCD_VALUES = "--endpoints --cacert --cert --key --user --password -w --write-out --command-timeout"
VAULT = table(
    read="read, list, status, kv get, kv list, kv metadata get, token lookup, secrets list,"
    " auth list, policy list, policy read, operator raft list-peers, audit list, version,"
    " path-help, operator members",
    destructive="delete, kv delete, kv destroy, kv metadata delete, secrets disable, auth disable,"
    " token revoke, lease revoke, policy delete, operator raft remove-peer",
)
CEPH = table(
    read="status, -s, health, health detail, df, versions, version, report, quorum_status,"
    " time-sync-status, progress, osd tree, osd df, osd stat, osd status, osd dump, osd ls,"
    " osd perf, osd pool ls, osd pool get, osd pool stats, osd blocked-by, osd find, osd metadata,"
    " osd crush rule ls, osd crush tree, osd crush dump, osd utilization, osd getmap,"
    " osd pool autoscale-status, pg stat, pg dump, pg ls, pg query, pg dump_stuck,"
    " pg ls-by-pool, mon stat, mon dump, mgr stat, mgr services, mgr module ls, mgr dump,"
    " fs status, fs ls, fs dump, fs get, mds stat, orch ps, orch ls, orch host ls,"
    " orch device ls, orch status, auth ls, auth get, auth list, crash ls, crash info,"
    " crash ls-new, config get, config dump, config show, config-key get, config-key ls,"
    " log last, balancer status, device ls, osd ok-to-stop, osd safe-to-destroy,"
    " osd blocklist ls",
    mutating="osd blocklist add, osd blocklist rm",
    destructive="osd purge, osd destroy, osd rm, osd pool delete, osd pool rm, fs rm, fs fail,"
    " auth del, auth rm, mon remove, mon rm, osd crush remove, osd crush rm, crash rm, orch rm,"
    " orch host rm, osd lost, config-key rm, config-key del, pg force-create-pg,"
    " osd pool rmsnap",
)
TERRAFORM = table(
    read="show, output, validate, providers, version, graph, state list, state show, state pull,"
    " workspace list, workspace show, console, plan",
    destructive="destroy, state rm, workspace delete",
)
TERRAFORM_VALUES = "-chdir -var -var-file -target -state -lock-timeout"
SIMPLE_CLIS: Final[dict[str, tuple[dict[str, Risk], str]]] = {
    "kubectl": (KUBE, KUBE_VALUES),
    "oc": (KUBE, KUBE_VALUES),
    "k": (KUBE, KUBE_VALUES),
    "docker": (DOCKER, DOCKER_VALUES),
    "docker-compose": (COMPOSE, DOCKER_VALUES),
    "docker-machine": (
        table(
            read=words("ls status inspect ip env config url version active"), destructive="rm, kill"
        ),
        "-s --storage-path",
    ),
    "crictl": (
        table(
            read=words(
                "ps pods images img inspect inspectp inspecti logs stats statsp info version "
                "imagefsinfo"
            ),
            destructive=words("rm rmp rmi stopp"),
        ),
        "-r --runtime-endpoint -i --image-endpoint --timeout -o --output --name --label "
        "--state --pod",
    ),
    "helm": (HELM, HELM_VALUES),
    "systemctl": (SYSTEMCTL, "-H --host -M --machine -p --property -t --type --state -n --lines"),
    "service": (table(read="--status-all"), ""),
    "consul": (CONSUL, "-http-addr -token -datacenter -namespace -partition"),
    "etcdctl": (ETCDCTL, ETCD_VALUES),
    "etcdutl": (
        table(read="snapshot status, hashkv, version"),
        "-w --write-out --data-dir --wal-dir",
    ),
    "vault": (VAULT, "-address -namespace -format -field -mount"),
    "ceph": (CEPH, "-c --conf -n --name --id -f --format --cluster -k --keyring"),
    "rados": (
        table(
            read=words("ls df lspools stat listxattr getxattr list-inconsistent-obj"),
            destructive=words("rm purge rmpool cleanup rmxattr"),
        ),
        "-p --pool -c --conf -n --name --id -f --format",
    ),
    "rbd": (
        table(
            read=words("ls list info du status diff children showmapped") + ", snap ls",
            destructive="rm, remove, trash purge, snap purge, snap rm, trash rm",
        ),
        "-p --pool -c --conf --id",
    ),
    "radosgw-admin": (
        table(
            read="user info, user list, bucket list, bucket stats, metadata list, metadata get,"
            " zone get, zonegroup get, period get, usage show, gc list, realm list, zone list,"
            " zonegroup list, sync status, bucket sync status",
            destructive="user rm, bucket rm, object rm, gc process, usage trim, zone delete,"
            " zone rm, zonegroup delete, zonegroup rm, realm delete, realm rm",
        ),
        "--uid --bucket -c --conf",
    ),
    "terraform": (TERRAFORM, TERRAFORM_VALUES),
    "tofu": (TERRAFORM, TERRAFORM_VALUES),
    "nomad": (
        table(
            read="status, job status, node status, alloc status, alloc logs, logs, version,"
            " server members, job inspect, job history, eval status, deployment status,"
            " deployment list, job plan",
            destructive="job stop, stop, system gc, alloc stop, job purge, node purge",
        ),
        "-address -region -namespace -token",
    ),
    "knife": (
        table(
            read="node list, node show, search, status, client list, client show, role list,"
            " role show, environment list, environment show, cookbook list, data bag list,"
            " data bag show",
            destructive="node delete, client delete, role delete, environment delete,"
            " cookbook delete, data bag delete",
        ),
        "-c --config -s --server-url -E --environment -x --ssh-user -a --attribute -i "
        "--ssh-identity-file -P --ssh-password -C --concurrency",
    ),
    "apt": (
        table(
            read=words("list search show policy depends rdepends changelog"),
            destructive=words("remove purge autoremove"),
        ),
        "-o -t",
    ),
    "apt-get": (table(destructive=words("remove purge autoremove")), "-o -t"),
    "apt-cache": (table(read=words("search show policy depends rdepends showpkg madison")), ""),
    "yum": (
        table(
            read=words("list info search check-update history repolist"),
            destructive=words("remove erase autoremove"),
        ),
        "",
    ),
    "dnf": (
        table(
            read=words("list info search check-update history repolist"),
            destructive=words("remove erase autoremove"),
        ),
        "",
    ),
    "rpm": (
        table(
            read=words("-qa -q -qi -ql -qf -V --query --verify"), destructive=words("-e --erase")
        ),
        "",
    ),
    "dpkg": (
        table(
            read=words("-l -L -s -S --list --status --listfiles --search"),
            destructive=words("-r -P --remove --purge"),
        ),
        "",
    ),
    "npm": (
        table(
            read=words("ls list view outdated version audit explain") + ", config list",
            destructive="uninstall, audit fix",
        ),
        "--prefix",
    ),
    "brew": (
        table(
            read=words("list info search outdated doctor config"),
            destructive=words("uninstall remove rm cleanup"),
        ),
        "",
    ),
    "supervisorctl": (table(read=words("status avail tail pid version")), "-c -s"),
    "pm2": (
        table(
            read=words("list ls status logs show describe monit jlist prettylist"),
            destructive=words("delete del kill"),
        ),
        "",
    ),
    "virsh": (
        table(
            read=words("list dominfo domstate dumpxml nodeinfo net-list pool-list vol-list"),
            destructive=words("destroy undefine vol-delete pool-delete"),
        ),
        "-c",
    ),
    "iptables": (
        table(
            read=words("-L -S --list --list-rules"),
            destructive=words("-F --flush -X -D --delete"),
            mutating=words("-A -I -R -P -N --append --insert --replace --policy"),
        ),
        "-t --table",
    ),
    "nft": (table(read="list", destructive="flush, delete"), "-a"),
    "zpool": (
        table(
            read=words("status list iostat history get"), destructive=words("destroy labelclear")
        ),
        "",
    ),
    "zfs": (table(read=words("list get"), destructive=words("destroy rollback")), ""),
    "gh": (
        table(
            read="pr list, pr view, pr status, pr diff, pr checks, issue list, issue view,"
            " run list, run view, repo view, release list, release view, auth status, status",
            destructive="repo delete, release delete, run delete",
        ),
        "-R --repo",
    ),
    "istioctl": (
        table(
            read=words("version proxy-status ps proxy-config pc analyze x describe"),
            destructive="uninstall",
        ),
        "-n --namespace -i --istioNamespace --context",
    ),
    "linkerd": (
        table(read=words("check version stat viz top tap routes edges"), destructive="uninstall"),
        "-n --namespace --context",
    ),
    "argocd": (
        table(
            read="app list, app get, app diff, app history, app logs, app manifests, cluster list,"
            " proj list, repo list, version, account get-user-info",
            destructive="app delete, cluster rm, proj delete, repo rm",
        ),
        "--server -o",
    ),
    "flux": (
        table(
            read=words("get check version logs events stats tree trace diff"),
            destructive=words("delete uninstall"),
        ),
        "-n --namespace --context",
    ),
    "velero": (
        table(
            read="backup get, backup describe, backup logs, restore get, restore describe,"
            " schedule get, version",
            destructive="backup delete, restore delete, schedule delete",
        ),
        "-n --namespace",
    ),
    "cmctl": (
        table(
            read="status certificate, inspect secret, check api, version", destructive="x delete"
        ),
        "-n --namespace --context --kubeconfig -o --output --wait",
    ),
    "cosign": (
        table(read=words("verify verify-attestation verify-blob tree triangulate version")),
        "--key --signature-digest-algorithm --certificate-identity --certificate-oidc-issuer "
        "--certificate --certificate-chain --type -a --annotations -o --output",
    ),
    "screen": (table(read=words("-ls -list -v -version")), "-S -r -x -c -d -R -D -p -X -t"),
    "dmsetup": (
        table(
            read=words("ls info status table deps version targets"),
            destructive=words("remove remove_all wipe_table"),
        ),
        "-j -m -u --uuid -c --columns -o --options",
    ),
    "pulumi": (
        table(
            read="preview, stack ls, stack output, config, whoami, version, about",
            destructive="destroy, stack rm",
        ),
        "-s --stack -C --cwd",
    ),
}
"""CLI -> (subcommand path -> risk, options that take a value). Unknown subcommands are mutating;
an option-shaped key (`-L`, `--list`) matches wherever it stands among the arguments."""

WRITE_OPTIONS: Final[dict[str, tuple[str, ...]]] = {
    "terraform": ("-out", "-state-out", "-backup"),
    "tofu": ("-out", "-state-out", "-backup"),
    "helm": ("--output-dir",),
    "kubectl": ("--output-directory",),
}
"""Options of a CLI that write a local file, whatever its subcommand: at least mutating."""

DRY_RUN: Final[dict[str, tuple[str, ...]]] = {
    "kubectl": ("--dry-run", "--dry-run=client", "--dry-run=server", "--dry-run=true"),
    "oc": ("--dry-run", "--dry-run=client", "--dry-run=server", "--dry-run=true"),
    "helm": ("--dry-run", "--dry-run=client", "--dry-run=server"),
    "aws": ("--dry-run", "--dryrun"),
    "apt-get": ("-s", "--simulate", "--dry-run"),
    "rsync": ("-n", "--dry-run"),
}
"""Options with which a CLI changes nothing (the last spelling given wins, as in the CLI)."""

# Verb-last CLIs (aws SERVICE OPERATION, gcloud GROUP... VERB, az GROUP... VERB) ------------
CLOUD_READ_VERBS: Final = frozenset(
    """list describe show get read tail ls cat du stat presign get-value wait query logs
    get-iam-policy export search version info whoami account""".split()
)
CLOUD_READ_PREFIXES: Final = (
    "describe-",
    "list-",
    "get-",
    "show-",
    "head-",
    "lookup-",
    "search-",
    "filter-",
    "batch-get-",
    "test-",
    "validate-",
    "estimate-",
)
CLOUD_DELETE_VERBS: Final = frozenset(
    """delete rm rb remove purge destroy terminate deregister delete-bucket""".split()
)
CLOUD_DELETE_PREFIXES: Final = (
    "batch-delete-",
    "delete-",
    "terminate-",
    "deregister-",
    "purge-",
    "remove-",
    "destroy-",
    "release-",
    "disable-key",
    "schedule-key-deletion",
)
CLOUD_MUTATING_READS: Final = frozenset(
    """get-credentials get-login get-login-password-stdin update-kubeconfig get-session-token
    get-federation-token""".split()
)
"""Read-shaped names that write (a kubeconfig) or mint credentials."""
CLOUD_VALUES: Final = frozenset(
    """--region --profile --output --query --endpoint-url --zone --project --format --filter
    --resource-group -g --name -n --subscription --location -l --cluster --limit
    --instance-ids --bucket --key --log-group-name --start-time --end-time --account
    --configuration --impersonate-service-account --verbosity --cli-read-timeout""".split()
)

GIT_READ: Final = frozenset(
    """status log diff show blame describe rev-parse ls-files ls-tree cat-file show-ref rev-list
    shortlog grep whatchanged name-rev for-each-ref merge-base count-objects verify-commit
    verify-tag ls-remote show-branch cherry check-ignore check-attr var version help
    diff-tree diff-files diff-index fsck""".split()
)

MAKE_READ_TARGETS: Final = frozenset(
    """status help logs logs-tail tail history audit lint check ps version list info show
    health doctor top stats describe""".split()
)
"""Targets a Makefile conventionally keeps read-only; any other target is mutating."""

SQL_READ: Final = frozenset(
    "select show explain describe desc with values table \\d \\l \\dt".split()
)
SQL_DESTRUCTIVE: Final = frozenset("drop truncate delete".split())

REDIS_READ: Final = frozenset(
    """get mget keys scan info ping ttl pttl type exists hget hgetall hmget hkeys hvals hlen
    hscan lrange llen lindex smembers scard sismember sscan zrange zrevrange zcard zscore
    zscan zrangebyscore dbsize strlen xlen xrange xrevrange xinfo pubsub time lastsave role
    echo memory slowlog client cluster config object latency command dump getrange bitcount
    geopos geodist""".split()
)
REDIS_SUB_WRITE: Final = frozenset("set resetstat reset kill pause rewrite doctor-no".split())
REDIS_DESTRUCTIVE: Final = frozenset(
    """flushall flushdb del unlink hdel srem zrem lrem ltrim xdel xtrim shutdown
    zremrangebyscore zremrangebyrank spop lpop rpop getdel expire pexpire""".split()
)
