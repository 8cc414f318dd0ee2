return { value = "from the service folder" }
