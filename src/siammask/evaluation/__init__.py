"""VOT evaluation: region overlap, result files, dataset loading, accuracy/robustness/EAO, reports.

Nothing here needs the network: these modules read a VOT-layout dataset and the per-frame
result files a tracker wrote, and compute the figures the VOT toolkits report.
"""
