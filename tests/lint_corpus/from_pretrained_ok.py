# Pattern (false-alarm family "Hugging Face model straight from from_pretrained()"): huggingface/transformers
# model cards and course notebooks: `model = AutoModelForSequenceClassification.from_pretrained(...)` then
# `with torch.no_grad(): logits = model(**inputs).logits`. from_pretrained() returns the model in eval mode.
# Label: correct.
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

checkpoint = "distilbert-base-uncased-finetuned-sst-2-english"
tokenizer = AutoTokenizer.from_pretrained(checkpoint)
model = AutoModelForSequenceClassification.from_pretrained(checkpoint)
inputs = tokenizer(["I love this course"], return_tensors="pt")
with torch.no_grad():
    logits = model(**inputs).logits
print(logits.argmax(-1))
