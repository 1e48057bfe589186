# Pattern: fine-tuning notebooks built on huggingface/transformers (Apache-2.0) that sample with
# model.generate() right after the training loop; generate() runs under no_grad but not in eval mode, so GPT-2's
# dropout stays on while sampling.
# Label: bug (eval-missing).
import torch
from transformers import GPT2LMHeadModel, GPT2Tokenizer

tokenizer = GPT2Tokenizer.from_pretrained("gpt2")
model = GPT2LMHeadModel.from_pretrained("gpt2")
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
model.train()
for epoch in range(2):
    for batch in []:
        loss = model(**batch, labels=batch["input_ids"]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
prompt = tokenizer("Once upon a time", return_tensors="pt")
sample = model.generate(**prompt, max_new_tokens=20)  # EXPECT eval-missing bug: dropout on while sampling
