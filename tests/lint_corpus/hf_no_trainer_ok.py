# Pattern: huggingface/transformers examples/pytorch/text-classification/run_glue_no_trainer.py (Apache-2.0):
# accelerator.prepare(), model.train() at the top of each epoch, model.eval() before the evaluation loop, with
# outputs under torch.no_grad().
# Label: correct.
import torch
from accelerate import Accelerator
from transformers import AutoModelForSequenceClassification


def main():
    accelerator = Accelerator()
    model = AutoModelForSequenceClassification.from_pretrained("bert-base-cased", num_labels=2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    model, optimizer, train_dataloader, eval_dataloader = accelerator.prepare(model, optimizer, [], [])
    for epoch in range(3):
        model.train()
        for step, batch in enumerate(train_dataloader):
            outputs = model(**batch)
            accelerator.backward(outputs.loss)
            optimizer.step()
            optimizer.zero_grad()
        model.eval()
        for step, batch in enumerate(eval_dataloader):
            with torch.no_grad():
                outputs = model(**batch)
            predictions = outputs.logits.argmax(dim=-1)


if __name__ == "__main__":
    main()
