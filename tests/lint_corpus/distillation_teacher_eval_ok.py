# Pattern: knowledge-distillation tutorials (pytorch/tutorials beginner_source/knowledge_distillation_tutorial.py,
# BSD-3-Clause): the teacher is put in eval mode once and queried inside the student's training step; only the
# student's parameters are optimized. (This variant queries the teacher without no_grad.)
# Label: correct.
import torch
import torch.nn as nn

teacher = nn.Sequential(nn.Linear(32, 64), nn.Dropout(0.3), nn.Linear(64, 10))
student = nn.Sequential(nn.Linear(32, 16), nn.Dropout(0.1), nn.Linear(16, 10))
optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)
teacher.eval()
student.train()
for epoch in range(10):
    for x, y in []:
        teacher_logits = teacher(x)
        student_logits = student(x)
        soft = nn.functional.kl_div(student_logits.log_softmax(-1), teacher_logits.softmax(-1).detach(),
                                    reduction="batchmean")
        loss = soft + nn.functional.cross_entropy(student_logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
