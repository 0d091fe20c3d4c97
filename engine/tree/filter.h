// Placeholder: rsync-style include/exclude rules land here.
#pragma once
