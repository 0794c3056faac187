#!/usr/bin/env bash
# `make deb`: gatewayd_<version>_<arch>.deb with dpkg-deb, no debhelper. The application and its
# Python dependencies go into their own venv under /usr/lib/gatewayd on Debian's python3, built
# here from wheels (nothing is downloaded at install time). Dependency wheels are kept in
# $WHEELHOUSE (default build/wheelhouse) so a rebuild needs no network.
#
# usage: scripts/build-deb.sh [OUTDIR]     (default: the repository's top directory)
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
top=$PWD
outdir=$(realpath "${1:-$top}")
wheelhouse=$(realpath -m "${WHEELHOUSE:-$top/build/wheelhouse}")
pip=("$top/.venv/bin/python" -m pip --disable-pip-version-check)

# Dates written into the package (changelog, man pages) are the last commit's: a rebuild is the same.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' gatewayd/__init__.py)
arch=$(dpkg --print-architecture)
stage=$top/build/deb/gatewayd_${version}_$arch
venv=/usr/lib/gatewayd
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$wheelhouse"

# 1. The venv, from wheels: offline from the wheelhouse when it has them all, else fill it first.
/usr/bin/python3 -m venv --symlinks --without-pip "$stage$venv"
install_venv() {
    "${pip[@]}" --python "$stage$venv/bin/python" install -q --no-compile --no-index \
        --find-links "$wheelhouse" "$top"
}
if ! install_venv 2>/dev/null; then
    echo "build-deb: filling the wheelhouse $wheelhouse"
    "${pip[@]}" download -q -d "$wheelhouse" "setuptools>=68" wheel
    "${pip[@]}" wheel -q -w "$wheelhouse" --find-links "$wheelhouse" "$top"
    rm -f "$wheelhouse"/gatewayd-*.whl   # the project itself is built fresh every time
    install_venv
fi
rm -rf "$top/build/lib" "$top/build/bdist."*
# The venv was built at $stage$venv; it runs at $venv.
find "$stage$venv/bin" -type f -exec sed -i "s|$stage$venv/|$venv/|g" {} +  # not the python symlinks; long paths are written as "exec"
sed -i "s|$stage||g" "$stage$venv/pyvenv.cfg"
rm -f "$stage$venv"/bin/activate* "$stage$venv"/bin/Activate.ps1
find "$stage$venv" -name .DS_Store -delete
find "$stage$venv" -name '*.so*' -type f -exec chmod 0644 {} +   # loaded, never executed
if grep -rlI --exclude-dir=__pycache__ "$stage" "$stage$venv" >/dev/null; then
    echo "build-deb: the staging path is still written in:" >&2
    grep -rlI "$stage" "$stage$venv" >&2
    exit 1
fi

# 2. Commands, unit, users, directories, configuration, documents.
install -d "$stage/usr/bin"
ln -s ../lib/gatewayd/bin/gatewayd "$stage/usr/bin/gatewayd"
ln -s ../lib/gatewayd/bin/gatewayctl "$stage/usr/bin/gatewayctl"
for unit in gatewayd.service gatewayd-backup.service gatewayd-backup.timer; do
    install -D -m 0644 "systemd/$unit" "$stage/lib/systemd/system/$unit"
done
install -D -m 0644 systemd/gatewayd.sysusers "$stage/usr/lib/sysusers.d/gatewayd.conf"
install -D -m 0644 systemd/gatewayd.tmpfiles "$stage/usr/lib/tmpfiles.d/gatewayd.conf"
# The package creates the staff group, so its configuration names it (the example cannot: the
# group does not exist where the example is checked).
install -d "$stage/etc/gatewayd"
sed 's/^# group = "gatewayd-staff".*/group = "gatewayd-staff"/' config/gatewayd.toml > "$stage/etc/gatewayd/gatewayd.toml"
grep -q '^group = "gatewayd-staff"' "$stage/etc/gatewayd/gatewayd.toml"
chmod 0640 "$stage/etc/gatewayd/gatewayd.toml"
install -D -m 0640 config/rates.toml "$stage/etc/gatewayd/rates.toml"
doc=$stage/usr/share/doc/gatewayd
install -D -m 0644 README.md "$doc/README.md"
install -D -m 0644 debian/copyright "$doc/copyright"
{
    echo "gatewayd ($version) unstable; urgency=medium"
    echo
    echo "  * Built from git $(git rev-parse --short HEAD 2>/dev/null || echo 'source tree')."
    echo
    echo " -- gatewayd maintainers <gatewayd@lists.gatewayd.example>  $(date -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$doc/changelog.gz"
# gatewayd(8) and gatewayctl(1), written from the packaged programs' own parsers (gatewayd/manpage.py)
# by the packaged venv itself (-I: not this checkout's sources; -B: no bytecode left in the venv).
pages=$top/build/man
rm -rf "$pages"
"$stage$venv/bin/python" -I -B -m gatewayd.manpage "$pages" >/dev/null
for page in "$pages"/*.[1-8]; do
    install -d "$stage/usr/share/man/man${page##*.}"
    gzip -9n -c "$page" > "$stage/usr/share/man/man${page##*.}/$(basename "$page").gz"
done
chmod 0644 "$stage"/usr/share/man/man*/*.gz
install -D -m 0644 debian/lintian-overrides "$stage/usr/share/lintian/overrides/gatewayd"

# 3. Control files.
install -m 0755 debian/postinst debian/prerm debian/postrm "$stage/DEBIAN/"
(cd "$stage" && find etc -type f -printf '/%p\n' | sort) > "$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" debian/control.in > "$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
    > "$stage/DEBIAN/md5sums"

deb=$outdir/gatewayd_${version}_$arch.deb
dpkg-deb --root-owner-group -Zgzip --build "$stage" "$deb" >/dev/null
echo "$deb"
