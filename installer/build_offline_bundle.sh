#!/usr/bin/env bash
# Build an offline bundle for an air-gapped site: Airlock's wheel, every pinned dependency's
# wheel for this platform, and an install script that needs no network.
#
#   installer/build_offline_bundle.sh [OUT_DIR]     (default: dist/airlock-offline)
#
# Run it on a connected machine of the same OS, CPU architecture and Python minor version as
# the site's workstations; carry OUT_DIR across; run OUT_DIR/install.sh there.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/airlock-offline}
python=${PYTHON:-python3}
rm -rf "$out"
mkdir -p "$out/wheels"
rm -rf build/lib build/bdist.*  # setuptools would pack files left there by an older build
"$python" -m pip wheel --quiet --wheel-dir "$out/wheels" '.[desktop]'
# The built-in maturity models, rubric catalogues and policies travel inside Airlock's wheel
# (resources/ is the package airlock_resources): refuse a bundle whose wheel lacks any of them.
"$python" - "$out"/wheels/airlock_ml-*.whl <<'CHECK'
import pathlib, sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
shipped = [p.relative_to("resources").as_posix() for p in pathlib.Path("resources").rglob("*")
           if p.is_file() and "__pycache__" not in p.parts]
missing = [s for s in shipped if f"airlock_resources/{s}" not in names]
if missing or not shipped:
    sys.exit(f"{sys.argv[1]} lacks resources {missing or '(none shipped)'}: check package-data in pyproject.toml")
print(f"{pathlib.Path(sys.argv[1]).name}: {len(shipped)} resource files inside")
CHECK
cat > "$out/install.sh" <<'INSTALL'
#!/usr/bin/env bash
# Install Airlock from this folder only: no index, no network.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${1:-$HOME/.local/share/airlock/venv}
python=${PYTHON:-python3}
"$python" -m venv "$target"
"$target/bin/python" -m pip install --quiet --no-index --find-links "$here/wheels" 'airlock-ml[desktop]'
"$target/bin/airlock" doctor
"$target/bin/python" -c "from core.resources import list_resources; assert list_resources('maturity'), 'no maturity models installed'"
echo "Installed. Start the desktop with: $target/bin/airlock-desktop"
INSTALL
chmod +x "$out/install.sh"
(cd "$out" && sha256sum wheels/* install.sh > SHA256SUMS)
echo "Offline bundle in $out ($(du -sh "$out" | cut -f1)); check it at the site with: sha256sum -c SHA256SUMS"
