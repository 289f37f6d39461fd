"""Model directories written by the generator scripts (make_models.py,
make_triton_examples.py, make_pipelines.py): each is built in a scratch
directory and swapped in whole, and carries the hash of the script that
wrote it in .generated, so an unchanged script skips it."""

import hashlib
import os
import shutil

STAMP = ".generated"


def script_hash(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()[:16]


def generate(out_root, name, writer, stamp, log):
    """Runs writer(scratch_dir) (its version directory "1" exists) unless
    <out_root>/<name> carries `stamp`; then swaps the result in."""
    final = os.path.join(out_root, name)
    try:
        with open(os.path.join(final, STAMP)) as f:
            if f.read().strip() == stamp:
                log(f"{name}: up to date")
                return
    except OSError:
        pass
    scratch = final + ".tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(os.path.join(scratch, "1"))
    writer(scratch)
    with open(os.path.join(scratch, STAMP), "w") as f:
        f.write(stamp + "\n")
    shutil.rmtree(final, ignore_errors=True)
    os.rename(scratch, final)
    log(f"{name}: done")
