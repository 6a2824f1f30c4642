"""The API's composition: the routes of every app's endpoints, and the writes that cross apps (payments)."""
