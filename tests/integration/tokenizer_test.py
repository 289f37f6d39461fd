"""The tokenizer backend against Python reference implementations, end to
end: Keras's Tokenizer + pad_sequences (word mode) and BERT's
BasicTokenizer + WordPiece (wordpiece mode), transcribed below from their
documented algorithms, on generated sentences sent to the real
`serval serve` in batches. Ids must match exactly. Needs Debian's numpy.

Run: /usr/bin/python3 tests/integration/tokenizer_test.py \
       --serval build/serval --backends build/backends
"""

import json
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serval_harness  # noqa: E402

ARGS = None
SERVER = None
REPO = None
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
WORDS = [f"w{i}" for i in range(280)] + ["the", "cat", "sat", "on", "mat",
                                        "café", "über"]
PIECES = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "!", ",", ".", "?", "'"] + \
    ["play", "##ing", "##ed", "##s", "un", "##able", "read", "the", "a",
     "cat", "dog", "##gy", "new", "york", "work", "##er", "w", "##1", "##2"]


# ---- references ------------------------------------------------------------

def keras_ids(text, vocab, length, oov=None, num_words=0, padding="pre",
              truncating="pre"):
    index = {w: i + 1 for i, w in enumerate(vocab)}
    text = "".join(c.lower() if c.isascii() else c for c in text)
    text = text.translate({ord(c): " " for c in KERAS_FILTERS})
    seq = []
    oov_index = index.get(oov) if oov else None
    for w in (t for t in text.split(" ") if t):
        i = index.get(w)
        if i is not None and num_words and i >= num_words:
            i = None
        if i is None:
            if oov_index is not None and not (num_words and oov_index >= num_words):
                seq.append(oov_index)
            continue
        seq.append(i)
    if len(seq) > length:
        seq = seq[:length] if truncating == "post" else seq[-length:]
    pad = [0] * (length - len(seq))
    return seq + pad if padding == "post" else pad + seq


def bert_ids(text, vocab, length):
    index = {t: i for i, t in enumerate(vocab)}
    tokens, cur = [], ""
    for ch in text:
        o = ord(ch)
        if o == 0 or (o < 32 and ch not in " \t\n\r\v\f") or o == 127:
            continue
        if ch in " \t\n\r\v\f":
            if cur:
                tokens.append(cur)
            cur = ""
        elif o < 128 and not ch.isalnum():
            if cur:
                tokens.append(cur)
            cur = ""
            tokens.append(ch)
        else:
            cur += ch.lower() if ch.isascii() else ch
    if cur:
        tokens.append(cur)
    pieces = []
    for word in tokens:
        if len(word.encode()) > 100:
            pieces.append("[UNK]")
            continue
        start, sub, bad = 0, [], False
        data = word.encode()
        while start < len(data):
            end, found = len(data), None
            while start < end:
                cand = data[start:end].decode("utf-8", "replace")
                if start > 0:
                    cand = "##" + cand
                if cand in index:
                    found = cand
                    break
                end -= 1
            if found is None:
                bad = True
                break
            sub.append(found)
            start = end
        pieces += ["[UNK]"] if bad else sub
    ids = [index["[CLS]"]] + [index.get(p, index["[UNK]"])
                              for p in pieces][:length - 2] + [index["[SEP]"]]
    mask = [1] * len(ids) + [0] * (length - len(ids))
    return ids + [index["[PAD]"]] * (length - len(ids)), mask


# ---- server ----------------------------------------------------------------

def tokenizer_config(name, length, parameters, mask=False):
    outputs = ['{ name: "IDS" data_type: TYPE_INT64 dims: [ %d ] }' % length]
    if mask:
        outputs.append('{ name: "MASK" data_type: TYPE_INT64 dims: [ %d ] }'
                       % length)
    params = "\n".join('parameters { key: "%s" value { string_value: "%s" } }'
                       % (k, v.replace("\\", "\\\\").replace('"', '\\"'))
                       for k, v in parameters.items())
    return "\n".join([
        f'name: "{name}"', 'backend: "tokenizer"', "max_batch_size: 8",
        'input [ { name: "TEXT" data_type: TYPE_STRING dims: [ 1 ] } ]',
        "output [ %s ]" % ", ".join(outputs),
        "dynamic_batching { max_queue_delay_microseconds: 2000 }",
        params, ""])


def add(name, config, vocab):
    REPO.add_model(name, config, files={
        "1/vocab.txt": ("\n".join(vocab) + "\n").encode()})


def setUpModule():
    global SERVER, REPO
    if not os.path.exists(os.path.join(ARGS.backends, "tokenizer",
                                       "libserval_tokenizer.so")):
        raise unittest.SkipTest("the tokenizer backend was not built")
    REPO = serval_harness.ModelRepository()
    vocab = ["<OOV>"] + WORDS
    add("words", tokenizer_config("words", 16, {
        "mode": "word", "vocabulary": "vocab.txt", "oov_token": "<OOV>",
        "num_words": "250"}), vocab)
    add("words_post", tokenizer_config("words_post", 12, {
        "mode": "word", "vocabulary": "vocab.txt", "padding": "post",
        "truncating": "post"}), WORDS)
    add("bert", tokenizer_config("bert", 24, {
        "mode": "wordpiece", "vocabulary": "vocab.txt"}, mask=True), PIECES)
    REPO.add_model("broken", tokenizer_config("broken", 8, {
        "mode": "wordpiece", "vocabulary": "../../etc/passwd"}))
    SERVER = serval_harness.Serval(ARGS.serval, ARGS.backends, [REPO.path])
    SERVER.start()


def tearDownModule():
    if SERVER is not None:
        SERVER.stop()
    if REPO is not None:
        REPO.close()


def sentences(n, vocabulary, seed):
    rng = random.Random(seed)
    extra = ["Unknown", "ZZZ", "The", "CAT", "Café", "playing", "unreadable",
             "doggy", "New-York", "worker's", "w12", "über"]
    punct = [",", ".", "!", "?", " (", ") ", "--", "\t", "\n", "  ", "'"]
    out = ["", "   ", "!!!"]
    while len(out) < n:
        words = [rng.choice(vocabulary + extra)
                 for _ in range(rng.randint(1, 30))]
        text = ""
        for w in words:
            text += w + (rng.choice(punct) if rng.random() < 0.3 else " ")
        out.append(text)
    return out


def tokenize(model, texts, outputs=("IDS",)):
    doc = {"inputs": [{"name": "TEXT", "datatype": "BYTES",
                       "shape": [len(texts), 1], "data": texts}]}
    status, _, body = SERVER.request("POST", f"/v2/models/{model}/infer",
                                     body=json.dumps(doc).encode())
    assert status == 200, body
    reply = {o["name"]: o for o in json.loads(body)["outputs"]}
    result = []
    for name in outputs:
        o = reply[name]
        width = o["shape"][1]
        result.append([o["data"][i * width:(i + 1) * width]
                       for i in range(len(texts))])
    return result


class Parity(unittest.TestCase):
    def check(self, model, texts, expected, outputs=("IDS",)):
        for start in range(0, len(texts), 4):
            chunk = texts[start:start + 4]
            got = tokenize(model, chunk, outputs)
            for k, text in enumerate(chunk):
                want = expected(text)
                want = want if isinstance(want, tuple) else (want,)
                for o in range(len(outputs)):
                    self.assertEqual(got[o][k], want[o],
                                     f"{model}, {outputs[o]}: {text!r}")

    def test_word_mode_matches_keras(self):
        vocab = ["<OOV>"] + WORDS
        self.check("words", sentences(200, WORDS, 1),
                   lambda t: keras_ids(t, vocab, 16, oov="<OOV>",
                                       num_words=250))

    def test_word_mode_post_padding_and_no_oov(self):
        self.check("words_post", sentences(120, WORDS, 2),
                   lambda t: keras_ids(t, WORDS, 12, padding="post",
                                       truncating="post"))

    def test_wordpiece_matches_bert(self):
        words = ["play", "playing", "played", "the", "a", "cat", "dog",
                 "unable", "read", "new", "york", "worker"]
        self.check("bert", sentences(200, words, 3),
                   lambda t: bert_ids(t, PIECES, 24), outputs=("IDS", "MASK"))

    def test_a_vocabulary_outside_the_version_directory_is_refused(self):
        status, _, body = SERVER.request("POST", "/v2/repository/index",
                                         body=b"{}")
        entry = [m for m in json.loads(body) if m["name"] == "broken"][0]
        self.assertIn("parameter 'vocabulary' must name a file in the "
                      "version directory", entry["reason"])


if __name__ == "__main__":
    ARGS = serval_harness.parse_args()
    sys.exit(serval_harness.unittest_main(lambda: [SERVER]))
