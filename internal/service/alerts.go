package service

import "time"

func (n *Notifier) alertInterval() time.Duration { return n.AlertInterval }
