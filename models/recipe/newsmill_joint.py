"""Loads a newsmill joint checkpoint (format: models/README.md, "Joint checkpoint format") into
PyTorch, for anyone who wants to use it from Python.

    from newsmill_joint import NewsmillJoint
    m = NewsmillJoint.from_pretrained("~/.cache/newsmill/models/<hash>/joint")
    out = m.annotate_sentence("Vladimir Putin met Kim Jong Un in Pyongyang.")
    # {'entities': [{'text': 'Vladimir Putin', 'label': 'PER', 'start': 0, 'end': 14,
    #                'stance': {...}}, ...], 'sentiment': {...}, 'tone': {...}}

`annotate(sentences, stance_model=NewsmillJoint.from_pretrained(".../stance"))` takes the
stance from a stance-only checkpoint (a `stance/` beside `joint/`, newsmill's default until
2026-12-03) in a second pass over the sentences that have an entity, as newsmill does.

One encoder pass per sentence answers every head: token tags (first wordpiece of each word,
greedy IOB2 decoding here; newsmill decodes with constraints), first-position classes through
the BERT pooler, and the stance toward each entity from [first position; mean; max] of its
wordpieces. Words and case-shape token types are made as newsmill makes them (joint.py's port of
crates/newsmill-text). Needs torch, transformers (BertModel), tokenizers, safetensors.

A first_position head may carry an optional `"temperature": T` (T > 0, default 1) in its
config.json entry: its logits are divided by T before the softmax (temperature scaling, fitted by
models/recipe/calibrate.py), which changes the probabilities and scores but never the label.
`logits(sentences, head)` returns a first-position head's raw logits, before any temperature.

A span_pool head may carry `"encoder": {"prefix": P, "from_layer": K}`: it reads its own copy
of the upper encoder layers (`P.layer.N.*`, N = K..L-1) run over the shared encoder's states after
layer K, rather than the shared encoder's last states (the default checkpoint's stance head,
from layer 4: joint.py --stance-branch, then distill.py; models/README.md).
"""

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import nn
from transformers import BertConfig, BertModel
from transformers.models.bert.modeling_bert import BertLayer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from joint import split_words, type_ids_of  # noqa: E402  (newsmill's words and case types)


class NewsmillJoint(nn.Module):
    def __init__(self, config, spec, tokenizer):
        super().__init__()
        self.config, self.spec, self.tokenizer = config, spec, tokenizer
        self.bert = BertModel(config, add_pooling_layer=True)
        h = config.hidden_size
        self.heads = nn.ModuleDict()
        for name, head in spec["heads"].items():
            width = 3 * h if head["kind"] == "span_pool" else h
            self.heads[name] = nn.Linear(width, len(head["labels"]))
        branch = self.span_branch()
        k = branch["from_layer"] if branch else config.num_hidden_layers
        self.branch = nn.ModuleList(BertLayer(config) for _ in range(k, config.num_hidden_layers))

    @classmethod
    def from_pretrained(cls, path):
        path = Path(path).expanduser()
        raw = json.loads((path / "config.json").read_text())
        spec = raw["newsmill"]
        config = BertConfig(**{k: v for k, v in raw.items() if k != "newsmill"})
        model = cls(config, spec, Tokenizer.from_file(str(path / "tokenizer.json")))
        tensors = load_file(str(path / "model.safetensors"))
        state = {k: v.float() for k, v in tensors.items() if k.startswith("bert.")}
        for name, head in spec["heads"].items():
            state[f"heads.{name}.weight"] = tensors[f"{head['prefix']}.weight"].float()
            state[f"heads.{name}.bias"] = tensors[f"{head['prefix']}.bias"].float()
        branch = model.span_branch()
        for i in range(len(model.branch)):
            p = f"{branch['prefix']}.layer.{branch['from_layer'] + i}."
            state.update({f"branch.{i}.{k[len(p):]}": v.float() for k, v in tensors.items() if k.startswith(p)})
        model.load_state_dict(state, strict=False)
        missing = [k for k in model.state_dict() if k not in state and not k.endswith("position_ids")]
        if missing:
            raise ValueError(f"{path}: tensors missing from model.safetensors: {missing[:5]}")
        return model.eval()

    def encode(self, sentences, max_len=128):
        """Batch of sentences → (ids, types, per sentence: word char spans, word index per
        position). Sentences are cut at `max_len` wordpieces (newsmill windows longer ones)."""
        cls_id, sep_id = self.tokenizer.token_to_id("[CLS]"), self.tokenizer.token_to_id("[SEP]")
        rows, meta = [], []
        for s in sentences:
            spans = split_words(s)
            words = [s[a:b] for a, b in spans]
            types = type_ids_of(words)
            ids, tt, wid = [cls_id], [0], [None]
            if words:
                enc = self.tokenizer.encode(words, is_pretokenized=True, add_special_tokens=False)
                for i, w in zip(enc.ids, enc.word_ids):
                    if len(ids) >= max_len - 1:
                        break
                    ids.append(i)
                    tt.append(types[w])
                    wid.append(w)
            ids.append(sep_id)
            tt.append(0)
            wid.append(None)
            rows.append((ids, tt))
            meta.append((spans, wid))
        n = max(len(r[0]) for r in rows)
        dev = self.bert.embeddings.word_embeddings.weight.device
        ids = torch.tensor([r[0] + [0] * (n - len(r[0])) for r in rows], device=dev)
        tt = torch.tensor([r[1] + [0] * (n - len(r[1])) for r in rows], device=dev)
        return ids, tt, meta

    @torch.no_grad()
    def forward(self, ids, types):
        """(last hidden states, pooler output, the states the span head reads)."""
        mask = (ids != 0).long()
        branch = self.span_branch()
        out = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=types, output_hidden_states=bool(branch))
        if not branch:
            return out.last_hidden_state, out.pooler_output, out.last_hidden_state
        h = out.hidden_states[branch["from_layer"]]
        ext = self.bert.get_extended_attention_mask(mask, ids.shape)
        for layer in self.branch:
            h = layer(h, attention_mask=ext)[0]
        return out.last_hidden_state, out.pooler_output, h

    def span_branch(self):
        """The span head's `encoder` entry (its own upper layers), or None."""
        name = self.span_head()
        return self.spec["heads"][name].get("encoder") if name else None

    def _first_position(self, name, hidden, pooled):
        """Raw logits [batch, labels] of first-position head `name`."""
        return self.heads[name](pooled if self.spec["heads"][name].get("pooler") else hidden[:, 0])

    @torch.no_grad()
    def logits(self, sentences, head, max_len=128):
        """Raw logits [batch, labels] of first-position head `head` (no temperature applied)."""
        ids, types, _ = self.encode(sentences, max_len)
        return self._first_position(head, *self(ids, types)[:2])

    def _scored(self, name, logits):
        labels = self.spec["heads"][name]["labels"]
        p = logits.float().softmax(-1).tolist()
        best = max(range(len(p)), key=p.__getitem__)
        return {"label": labels[best].lower(), "score": p[best], "probs": dict(zip(labels, p))}

    def span_head(self):
        return next((n for n, h in self.spec["heads"].items() if h["kind"] == "span_pool"), None)

    def _span_scored(self, hidden, r, pos):
        t = hidden[r, pos]
        feat = torch.cat([hidden[r, 0], t.mean(0), t.max(0).values])
        name = self.span_head()
        return self._scored(name, self.heads[name](feat))

    @torch.no_grad()
    def annotate(self, sentences, max_len=128, stance_model=None):
        """Entities (greedy IOB2 over first wordpieces), their stance, and every first-position
        head's class, for each sentence; one encoder pass for the batch. With `stance_model`
        (a stance-only checkpoint, newsmill's default `stance/`), the stance comes from it
        instead: a second pass over the sentences that have an entity."""
        ids, types, meta = self.encode(sentences, max_len)
        hidden, pooled, span_hidden = self(ids, types)
        heads = self.spec["heads"]
        ner = next((n for n, h in heads.items() if h["kind"] == "token"), None)
        stance = self.span_head() if stance_model is None else None
        first = {
            n: self._first_position(n, hidden, pooled) / h.get("temperature", 1.0)
            for n, h in heads.items() if h["kind"] == "first_position"
        }
        results = []
        for r, (s, (spans, wid)) in enumerate(zip(sentences, meta)):
            res = {name: self._scored(name, logits[r]) for name, logits in first.items()}
            ents = []
            if ner is not None:
                labels = heads[ner]["labels"]
                tags = self.heads[ner](hidden[r]).argmax(-1).tolist()
                word_tag, prev = {}, None
                for p, w in enumerate(wid):
                    if w is not None and w != prev:
                        word_tag[w] = labels[tags[p]]
                    prev = w
                cur = None
                for w in sorted(word_tag):
                    t = word_tag[w]
                    if t.startswith("I-") and cur and cur[2] == t[2:] and cur[1] == w - 1:
                        cur[1] = w
                        continue
                    if cur:
                        ents.append(cur)
                    cur = [w, w, t[2:]] if t != "O" else None
                if cur:
                    ents.append(cur)
            out = []
            for a, b, label in ents:
                e = {"text": s[spans[a][0] : spans[b][1]], "label": label, "start": spans[a][0], "end": spans[b][1]}
                pos = [p for p, w in enumerate(wid) if w is not None and a <= w <= b]
                if stance is not None:
                    e["stance"] = self._span_scored(span_hidden, r, pos)
                out.append((e, pos))
            res["entities"] = out
            results.append(res)
        if stance_model is not None:
            # the same words and wordpieces (same tokenizer), so the positions carry over
            rows = [r for r, res in enumerate(results) if res["entities"]]
            if rows:
                s_ids, s_types, _ = stance_model.encode([sentences[r] for r in rows], max_len)
                _, _, s_hidden = stance_model(s_ids, s_types)
                for i, r in enumerate(rows):
                    for e, pos in results[r]["entities"]:
                        e["stance"] = stance_model._span_scored(s_hidden, i, pos)
        for res in results:
            res["entities"] = [e for e, _ in res["entities"]]
        return results

    def annotate_sentence(self, sentence):
        return self.annotate([sentence])[0]
