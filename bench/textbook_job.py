"""The script a tutorial would write for the short job of bench/whole_process.py, as a whole
process: torchvision's FashionMNIST dataset (ToTensor + Normalize), a DataLoader with
shuffling, the baseline CNN of week 5 in fp32, Adam, ``STEPS`` steps, then the test set.

    python bench/textbook_job.py STEPS DATA_ROOT   (DATA_ROOT/FashionMNIST/raw holds the IDX files)
"""

import sys

import torch
import torch.nn.functional as F
from torch import nn
from torchvision import datasets, transforms

steps, root = int(sys.argv[1]), sys.argv[2]
transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
train = datasets.FashionMNIST(root, train=True, transform=transform)
test = datasets.FashionMNIST(root, train=False, transform=transform)
loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True)
model = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Dropout(0.25),
    nn.Linear(64 * 7 * 7, 128),
    nn.ReLU(),
    nn.Dropout(0.25),
    nn.Linear(128, 10),
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
model.train()
done = 0
while done < steps:
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        done += 1
        if done % 100 == 0:
            print(f"step {done}: loss {loss.item():.4f}")
        if done == steps:
            break
model.eval()
correct = 0
with torch.no_grad():
    for x, y in torch.utils.data.DataLoader(test, batch_size=1000):
        correct += (model(x).argmax(1) == y).sum().item()
print(f"test accuracy {correct / len(test):.4f}")
