# Pattern: huggingface/transformers examples/pytorch/text-classification/run_glue_no_trainer.py (Apache-2.0)
# puts model.eval() before its evaluation loop; this is the variant without it: after fine-tuning with
# model.train(), predictions under no_grad run with dropout on.
# Label: bug (eval-missing).
import torch
from transformers import AutoModelForSequenceClassification

model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
for epoch in range(3):
    model.train()
    for batch in []:
        outputs = model(**batch)
        outputs.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
with torch.no_grad():  # EXPECT eval-missing bug: dropout still on after model.train()
    predictions = [model(**batch).logits.argmax(-1) for batch in []]
