# Pattern (false-alarm family "no_grad used to compute targets inside a training step"): pytorch/tutorials
# intermediate_source/reinforcement_q_learning.py (BSD-3-Clause), optimize_model(): next-state values from
# target_net under torch.no_grad(), then loss.backward() on policy_net in the same step.
# Label: correct.
import torch
import torch.nn as nn


class DQN(nn.Module):
    def __init__(self, n_obs, n_actions):
        super().__init__()
        self.layer1 = nn.Linear(n_obs, 128)
        self.layer2 = nn.Linear(128, n_actions)

    def forward(self, x):
        return self.layer2(torch.relu(self.layer1(x)))


policy_net = DQN(4, 2)
target_net = DQN(4, 2)
optimizer = torch.optim.AdamW(policy_net.parameters(), lr=1e-4)


def optimize_model(state_batch, action_batch, reward_batch, next_states):
    state_action_values = policy_net(state_batch).gather(1, action_batch)
    with torch.no_grad():
        next_state_values = target_net(next_states).max(1).values
    expected = next_state_values * 0.99 + reward_batch
    loss = nn.SmoothL1Loss()(state_action_values, expected.unsqueeze(1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


for i_episode in range(600):
    optimize_model(None, None, None, None)
