"""The system's own messages to customers: what the policy plans, the rules on each, the sending and receipts."""
