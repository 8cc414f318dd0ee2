"""seedfiles.py — how the corpus generators (gen_*_corpus.py) store a seed:
corpus/<target>/seed-<sha1 prefix>, so rerunning a generator rewrites its own
seeds and leaves what libFuzzer added."""
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, blobs):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    for b in blobs:
        name = 'seed-' + hashlib.sha1(b).hexdigest()[:16]
        with open(os.path.join(d, name), 'wb') as f:
            f.write(b)
