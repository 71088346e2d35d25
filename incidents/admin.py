from django.contrib import admin

from incidents.models import Category, WhistleClass


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "department", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")


@admin.register(WhistleClass)
class WhistleClassAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "acknowledge_hours", "report_back_hours")
