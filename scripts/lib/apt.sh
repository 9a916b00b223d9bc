# SPDX-License-Identifier: GPL-2.0
#
# Private apt states for one Debian release and architecture, sourced
# after lib.sh by the scripts that fetch packages from Debian's archive
# (distro-fetch.sh, get-source.sh). Nothing is written to /etc/apt or
# /var/lib/dpkg, and no architecture is added to dpkg: apt runs with its
# own configuration, state, cache, source list and an empty dpkg status.

# mirror_of <path>: the first URI of the machine's enabled apt sources
# whose path ends in /<path> (deb822 .sources and one-line .list files).
mirror_of() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?//p' |
		tr ' \t' '\n\n' | grep -m1 -E "^https?://[^ ]*/$1/?\$" | sed 's,/$,,'
}

# apt_mirrors: set $mirror and $security (DEBIAN_MIRROR= and
# DEBIAN_SECURITY_MIRROR= override the machine's own) and $keyring.
apt_mirrors() {
	need_cmd apt-get apt-cache
	mirror=${DEBIAN_MIRROR:-$(mirror_of debian || true)}
	security=${DEBIAN_SECURITY_MIRROR:-$(mirror_of debian-security || true)}
	[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*; set DEBIAN_MIRROR=<url>"
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -f "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"
}

# apt_state <dir> <debian-arch> <release> <what>: a private apt
# configuration (APT_CONFIG=<dir>/apt.conf, exported) for one Debian
# architecture with the release's main, updates and security suites, and
# its package lists. A directory made for another release or
# architecture is made anew. <what> names the caller in progress lines.
apt_state() {
	local apt=$1 arch=$2 rel=$3
	check_release "$rel"
	[ -n "${mirror:-}" ] || apt_mirrors
	if [ -f "$apt/made-for" ] && [ "$(cat "$apt/made-for")" != "$rel $arch" ]; then
		info "$4: ${apt#$TOP/} was made for $(cat "$apt/made-for"), making it anew for $rel $arch"
		rm -rf "$apt"
	fi
	mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/empty" "$apt/log"
	echo "$rel $arch" >"$apt/made-for"
	: >"$apt/state/status"
	{
		echo "deb [signed-by=$keyring] $mirror $rel main"
		echo "deb [signed-by=$keyring] $mirror $rel-updates main"
		[ -z "$security" ] || echo "deb [signed-by=$keyring] $security $rel-security main"
	} >"$apt/sources.list"
	# Read first by apt; the machine's apt.conf.d (update hooks and all)
	# and preferences are replaced by empty ones.
	cat >"$apt/apt.conf" <<EOC
Dir::Etc::Parts "$apt/empty";
Dir::Etc::main "/dev/null";
Dir::Etc::SourceList "$apt/sources.list";
Dir::Etc::SourceParts "$apt/empty";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$apt/empty";
Dir::State "$apt/state";
Dir::State::status "$apt/state/status";
Dir::Cache "$apt/cache";
Dir::Log "$apt/log";
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
APT::Sandbox::User "root";
EOC
	export APT_CONFIG=$apt/apt.conf
	info "$4: apt-get update for $rel $arch (private state in ${apt#$TOP/})"
	apt-get -q -q update >"$apt/log/update.log" 2>&1 && return 0
	# Debian 11's security suite lists armhf, but the archive answers 404
	# for its package index (measured December 2026): a security suite
	# without this architecture's index is left out, and said so; the
	# kernel then comes from the release and its updates suite.
	if [ -n "$security" ] && grep -q "$rel-security/main/binary-$arch/Packages *404" "$apt/log/update.log"; then
		info "$4: the archive has no $rel-security index for $arch (404); going on without $rel-security"
		sed -i "/ $rel-security main\$/d" "$apt/sources.list"
		apt-get -q -q update >"$apt/log/update.log" 2>&1 && return 0
	fi
	die "$4: apt-get update for $rel $arch failed (see ${apt#$TOP/}/log/update.log)"
}
